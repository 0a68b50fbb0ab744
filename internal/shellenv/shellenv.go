package shellenv

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/alisw/alilogin/internal/envcontract"
)

// Shells that Write knows.
const (
	Sh         = "sh" // also bash, zsh, dash, ksh
	Fish       = "fish"
	PowerShell = "powershell"
	JSON       = "json"
)

// Var is one variable of the environment contract; Unset means remove
// it from the environment.
type Var = envcontract.Var

// Parse maps a --shell value to one of the shells above.
func Parse(s string) (string, error) {
	switch strings.ToLower(s) {
	case "sh", "bash", "zsh", "dash", "ksh", "posix":
		return Sh, nil
	case "fish":
		return Fish, nil
	case "powershell", "pwsh", "ps":
		return PowerShell, nil
	case "json":
		return JSON, nil
	}
	return "", fmt.Errorf("unknown shell %q: want sh, bash, zsh, fish, powershell or json", s)
}

// Detect guesses the user's shell from $SHELL (fish or sh); PowerShell and
// JSON are only chosen explicitly.
func Detect(getenv func(string) string) string {
	if filepath.Base(getenv("SHELL")) == "fish" {
		return Fish
	}
	return Sh
}

// dialect is how one shell sets and unsets a variable. Unsetting a
// variable that is not set must not fail the output: fish's `set -e`
// returns 4 then, and a later `set` passes that status on, so that
// `alilogin env --shell fish | source; or exit 1` would fail.
type dialect struct {
	set, unset string // formats: name (and the quoted value for set)
	quote      func(string) string
}

var dialects = map[string]dialect{
	Sh:         {set: "export %s=%s;\n", unset: "unset %s;\n", quote: QuoteSh},
	Fish:       {set: "set -gx %s %s;\n", unset: "set -e %s; or true;\n", quote: QuoteFish},
	PowerShell: {set: "$Env:%s = %s\n", unset: "Remove-Item Env:%s -ErrorAction SilentlyContinue\n", quote: QuotePowerShell},
}

// inheritedName reports whether n, a name alilogin does not set but
// unsets, is one PowerShell (and JSON) can name: letters of any script,
// digits and _. On Windows a name such as VAULT_SKıP_VERIFY (dotless ı)
// is read as VAULT_SKIP_VERIFY (envcontract.SameName) and must go; sh
// and fish cannot name it, and Write refuses it there rather than leave
// it.
func inheritedName(n string) bool {
	if n == "" {
		return false
	}
	for i, r := range n {
		if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

// Write prints vars for shell on w.
func Write(w io.Writer, shell string, vars []Var) error {
	for _, v := range vars {
		if !envcontract.ValidName(v.Name) && !(v.Unset && (shell == PowerShell || shell == JSON) && inheritedName(v.Name)) {
			return fmt.Errorf("invalid variable name %q", v.Name)
		}
	}
	var b strings.Builder
	if d, ok := dialects[shell]; ok {
		for _, v := range vars {
			if v.Unset {
				fmt.Fprintf(&b, d.unset, v.Name)
			} else {
				fmt.Fprintf(&b, d.set, v.Name, d.quote(v.Value))
			}
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	switch shell {
	case JSON:
		m := map[string]*string{}
		for _, v := range vars {
			if v.Unset {
				m[v.Name] = nil
			} else {
				m[v.Name] = &v.Value
			}
		}
		enc, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		b.Write(enc)
		b.WriteByte('\n')
	default:
		return fmt.Errorf("unknown shell %q", shell)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// QuoteSh quotes s for POSIX shells: in single quotes, where a quote is
// written as close quote, backslash-quote, open quote.
func QuoteSh(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// QuoteFish quotes s for fish: in single quotes only \ and ' are special.
func QuoteFish(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// QuotePowerShell quotes s for PowerShell: single quotes (including the
// typographic ones PowerShell also accepts) are doubled.
func QuotePowerShell(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
	return b.String()
}
