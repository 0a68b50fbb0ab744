package kvsecret

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/secret"
)

// A secret, from its flag (Spec, Parse) to its value (ReadAt) and into
// the child's environment (Environ); --secret-file's private files are
// files.go's.

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
	if !envcontract.ValidName(name) {
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

// Vault is the Vault client with the profile's token (an
// *apiclient.Client).
type Vault interface {
	// DoIdempotent: every call of kvsecret is a read, tried again after
	// a transient failure.
	DoIdempotent(ctx context.Context, method, path string, in, out any) error
}

// Value is a secret read for a Spec.
type Value struct {
	Spec  Spec
	Value secret.String
}

// Error is a secret that could not be read: it names the path, the field
// and the profile, never a value.
type Error struct {
	Spec    Spec
	Profile string
	Reason  string // "permission denied", "not found", ...
	Err     error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("could not read secret %s (%s) for profile %s: %s", e.Spec, e.Spec.Var, e.Profile, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// ReadAt is ReadAll from the Vault at addr, checked with the TLS
// settings t, with token: the client of apiclient.For, the one that
// sends a token to its own server only.
func ReadAt(ctx context.Context, addr string, t apiclient.TLS, token secret.String, profile string, specs []Spec) ([]Value, error) {
	v, err := apiclient.For(apiclient.Vault, addr, t)
	if err != nil {
		return nil, err
	}
	return ReadAll(ctx, v.WithToken(token), profile, specs)
}

// ReadAll reads every spec in parallel and returns the values in the
// order of specs, or the first error in that order.
func ReadAll(ctx context.Context, v Vault, profile string, specs []Spec) ([]Value, error) {
	out := make([]Value, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, s := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			val, err := Read(ctx, v, profile, s)
			out[i], errs[i] = Value{Spec: s, Value: val}, err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mountInfo is the answer of sys/internal/ui/mounts/<path>.
type mountInfo struct {
	Data struct {
		Path    string            `json:"path"`
		Type    string            `json:"type"`
		Options map[string]string `json:"options"`
	} `json:"data"`
}

// Mount finds the mount of a kv path and its KV version, as the vault
// CLI's `kv` commands do: sys/internal/ui/mounts/<path>, which any token
// with a capability on the path may read.
func Mount(ctx context.Context, v Vault, path string) (mount string, version int, err error) {
	var m mountInfo
	if err := v.DoIdempotent(ctx, "GET", "/v1/sys/internal/ui/mounts/"+apiclient.EscapePath(path), nil, &m); err != nil {
		return "", 0, err
	}
	mount = strings.Trim(m.Data.Path, "/")
	if mount == "" || !strings.HasPrefix(path+"/", mount+"/") {
		return "", 0, fmt.Errorf("Vault names no mount for the path")
	}
	switch m.Data.Type {
	case "kv", "generic":
	default:
		return "", 0, fmt.Errorf("the mount %s/ is not a KV secrets engine (type %q)", mount, m.Data.Type)
	}
	if m.Data.Options["version"] == "2" {
		return mount, 2, nil
	}
	return mount, 1, nil
}

// Read reads one secret's field with the profile's token.
func Read(ctx context.Context, v Vault, profile string, s Spec) (secret.String, error) {
	fail := func(reason string, err error) (secret.String, error) {
		return secret.String{}, &Error{Spec: s, Profile: profile, Reason: reason, Err: err}
	}
	mount, version, err := Mount(ctx, v, s.Path)
	if err != nil {
		return fail(reasonOf(err), cause(err))
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(s.Path, mount), "/")
	if rest == "" {
		return fail("the path names the mount, not a secret in it", nil)
	}
	var fields map[string]json.RawMessage
	if version == 2 {
		var ans struct {
			Data struct {
				Data map[string]json.RawMessage `json:"data"`
			} `json:"data"`
		}
		err = v.DoIdempotent(ctx, "GET", "/v1/"+apiclient.EscapePath(mount)+"/data/"+apiclient.EscapePath(rest), nil, &ans)
		fields = ans.Data.Data
	} else {
		var ans struct {
			Data map[string]json.RawMessage `json:"data"`
		}
		err = v.DoIdempotent(ctx, "GET", "/v1/"+apiclient.EscapePath(s.Path), nil, &ans)
		fields = ans.Data
	}
	if err != nil {
		return fail(reasonOf(err), cause(err))
	}
	if fields == nil {
		return fail("not found (or deleted)", nil)
	}
	raw, ok := fields[s.Field]
	if !ok {
		return fail(fmt.Sprintf("the secret has no field %q", s.Field), nil)
	}
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return secret.New(str), nil
	}
	// A number, boolean or object: its JSON text, as `vault kv get
	// -field` prints it.
	return secret.New(string(raw)), nil
}

// reasonOf is what a failed call means for the user.
func reasonOf(err error) string {
	switch apiclient.StatusOf(err) {
	case 403:
		return "permission denied"
	case 404:
		return "not found"
	case 0:
		if apiclient.Unreachable(err) {
			return "Vault did not answer"
		}
	}
	return "Vault refused"
}

// cause keeps the server's error for statuses other than the two above,
// whose reason says it all.
func cause(err error) error {
	switch apiclient.StatusOf(err) {
	case 403, 404:
		return nil
	}
	return err
}

// Environ is the child's environment env with the variables of vals set
// (envcontract.Apply: an inherited variable of the same name replaced):
// the value itself for --secret, the file's path for --secret-file.
func Environ(env []string, vals []Value, f *Files) []string {
	var vars []envcontract.Var
	for _, v := range vals {
		if v.Spec.File {
			vars = append(vars, envcontract.Var{Name: v.Spec.Var, Value: f.Paths[v.Spec.Var]})
		} else {
			vars = append(vars, envcontract.Var{Name: v.Spec.Var, Value: v.Value.Reveal()})
		}
	}
	return envcontract.Apply(env, vars)
}
