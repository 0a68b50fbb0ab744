package kvsecret

import (
	"errors"
	"fmt"
	"strings"

	"github.com/alisw/alilogin/internal/shellenv"
)

// Spec is one --secret or --secret-file flag: VAR=<kv path>#<field>.
type Spec struct {
	Var   string // the child's environment variable
	Path  string // as for `vault kv get`: mount and path, no data/
	Field string
	File  bool // --secret-file: the value goes into a file, Var names it
}

func (s Spec) String() string { return s.Path + "#" + s.Field }

// Parse reads VAR=<kv path>#<field>. The path's segments are Vault path
// segments: no empty one, no . or .., printable ASCII without spaces,
// ?, # or %.
func Parse(v string, file bool) (Spec, error) {
	name, rest, ok := strings.Cut(v, "=")
	if !ok {
		return Spec{}, fmt.Errorf("invalid secret %q: want VAR=<kv path>#<field>", v)
	}
	if !shellenv.ValidName(name) {
		return Spec{}, fmt.Errorf("invalid secret %q: %q is not an environment variable name", v, name)
	}
	path, field, ok := strings.Cut(rest, "#")
	if !ok || field == "" {
		return Spec{}, fmt.Errorf("invalid secret %s: no field (want VAR=<kv path>#<field>)", name)
	}
	path = strings.Trim(path, "/")
	if err := checkPath(path); err != nil {
		return Spec{}, fmt.Errorf("invalid secret %s: %w", name, err)
	}
	if err := checkText(field); err != nil {
		return Spec{}, fmt.Errorf("invalid secret %s: field: %w", name, err)
	}
	return Spec{Var: name, Path: path, Field: field, File: file}, nil
}

// ParseAll parses --secret and --secret-file values; a variable named
// twice is refused.
func ParseAll(env, files []string) ([]Spec, error) {
	var out []Spec
	seen := map[string]bool{}
	for i, l := range [][]string{env, files} {
		for _, v := range l {
			s, err := Parse(v, i == 1)
			if err != nil {
				return nil, err
			}
			if seen[s.Var] {
				return nil, fmt.Errorf("secret variable %s is given twice", s.Var)
			}
			seen[s.Var] = true
			out = append(out, s)
		}
	}
	return out, nil
}

func checkPath(p string) error {
	if p == "" {
		return errors.New("empty kv path")
	}
	segs := strings.Split(p, "/")
	if len(segs) < 2 {
		return fmt.Errorf("kv path %q names no secret under a mount", p)
	}
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return fmt.Errorf("kv path %q has an empty, . or .. segment", p)
		}
		if err := checkText(s); err != nil {
			return fmt.Errorf("kv path: %w", err)
		}
	}
	return nil
}

func checkText(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '?' || c == '#' || c == '%' {
			return fmt.Errorf("%q has a character that is not allowed (space, control, non-ASCII, ?, # or %%)", s)
		}
	}
	return nil
}
