package main

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// licenceFile says whether a file in a module's root is one of its
// licence or notice files.
func licenceFile(name string) bool {
	u := strings.ToUpper(name)
	for _, p := range []string{"LICENSE", "LICENCE", "COPYING", "NOTICE", "PATENTS", "COPYRIGHT"} {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}

// escapeModulePath is the module cache's spelling of a module path or
// version: an upper-case letter is "!" and the letter in lower case.
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// writeNotices writes to dst the licence and notice files of everything
// compiled into binary, from its build information: the Go standard
// library and runtime, and every module it lists, each from the module
// cache (where the build took it from). A module without a licence file
// is an error: its code cannot be shipped without knowing its terms.
func writeNotices(ctx context.Context, binary, dst, goModCache, goRoot string) error {
	bi, err := buildinfo.ReadFile(binary)
	if err != nil {
		return fmt.Errorf("could not read the build information of %s: %w", binary, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Third-party code compiled into %s, with its licence and notice files.\n", filepath.Base(binary))
	add := func(what, dir string) error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("could not list the licences of %s: %w", what, err)
		}
		var names []string
		for _, e := range entries {
			if e.Type().IsRegular() && licenceFile(e.Name()) {
				names = append(names, e.Name())
			}
		}
		if len(names) == 0 {
			return fmt.Errorf("could not find a licence file of %s in %s", what, dir)
		}
		sort.Strings(names)
		for _, n := range names {
			text, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				return fmt.Errorf("could not read the licence of %s: %w", what, err)
			}
			fmt.Fprintf(&b, "\n==> %s: %s <==\n\n%s", what, n, text)
			if !strings.HasSuffix(string(text), "\n") {
				b.WriteByte('\n')
			}
		}
		return nil
	}
	if err := add("Go standard library and runtime "+bi.GoVersion, goRoot); err != nil {
		return err
	}
	for _, d := range bi.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		if m.Version == "" {
			return fmt.Errorf("could not find the licence of %s: replaced by a directory (%s)", d.Path, m.Path)
		}
		dir := filepath.Join(goModCache, filepath.FromSlash(escapeModulePath(m.Path))+"@"+escapeModulePath(m.Version))
		if err := add(m.Path+" "+m.Version, dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("could not create %s: %w", filepath.Dir(dst), err)
	}
	if err := os.WriteFile(dst, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("could not write %s: %w", dst, err)
	}
	return nil
}

// goEnv asks the go command for one setting.
func goEnv(ctx context.Context, dir, name string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "env", name)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("could not run go env %s: %w", name, err)
	}
	v := strings.TrimSpace(string(out))
	if v == "" {
		return "", fmt.Errorf("could not find %s: go env says nothing", name)
	}
	return v, nil
}
