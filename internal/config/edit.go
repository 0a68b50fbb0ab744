package config

// Editing the config file in place, for `alilogin setup`: the user's own
// settings, comments and layout are kept; only the given top-level
// attributes are replaced or added. hclwrite would do it too, but it links
// go-cmp and its init into every alilogin command, `token` included.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/alisw/alilogin/internal/atomicfile"
)

// Setting is one top-level string attribute of the config file.
type Setting struct {
	Name, Value string
}

// newFileHeader starts a config file that setup creates.
const newFileHeader = "# alilogin configuration. Written by `alilogin setup`; settings added here\n# override what the broker's discovery document says.\n"

// UpdateFile sets the given top-level attributes in the config file at
// path (created if missing), keeping everything else in it, and writes it
// atomically with mode 0600. The result must still read as a config file.
func UpdateFile(path string, settings ...Setting) error {
	src, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("could not read config file: %w", err)
	}
	out, err := setAttributes(path, src, settings...)
	if err != nil {
		return fmt.Errorf("could not update config file %s: %w", path, err)
	}
	if _, err := Parse(path, out); err != nil {
		return fmt.Errorf("could not update config file: %w", err)
	}
	if err := atomicfile.Write(path, out); err != nil {
		return fmt.Errorf("could not write config file: %w", err)
	}
	return nil
}

// setAttributes returns the HCL text src with each setting's top-level
// attribute set to its value: an existing attribute's value is replaced
// where it stands, a new one is appended at the end. path is used in error
// messages.
func setAttributes(path string, src []byte, settings ...Setting) ([]byte, error) {
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, errors.New(diags.Error())
	}
	body := f.Body.(*hclsyntax.Body)
	type edit struct {
		start, end int
		text       string
	}
	var edits []edit
	var added strings.Builder
	for _, s := range settings {
		if a, ok := body.Attributes[s.Name]; ok {
			r := a.Expr.Range()
			edits = append(edits, edit{r.Start.Byte, r.End.Byte, quote(s.Value)})
			continue
		}
		fmt.Fprintf(&added, "%s = %s\n", s.Name, quote(s.Value))
	}
	// Replace from the end so that earlier offsets stay valid.
	slices.SortFunc(edits, func(a, b edit) int { return b.start - a.start })
	out := slices.Clone(src)
	for _, e := range edits {
		out = slices.Concat(out[:e.start], []byte(e.text), out[e.end:])
	}
	if len(src) == 0 {
		out = append(out, newFileHeader...)
	}
	if added.Len() > 0 {
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		out = append(out, added.String()...)
	}
	return out, nil
}

// quote returns s as an HCL quoted string literal, with the escapes
// hclwrite uses: backslash, quote, control characters, and template
// introducers (${ and %{) doubled so they stay literal.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '"':
			b.WriteString(`\"`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte(c)
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
