package session

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/testutil"
)

// TestCurrentProfileFile: `use` writes the current profile to a 0600 file
// of the state directory; a logout clears it only when it names the
// profile logged out; a file that names no profile is an error saying
// how to fix it.
func TestCurrentProfileFile(t *testing.T) {
	env := testutil.Home(t, nil)
	e := Env{Getenv: func(k string) string { return env[k] }}
	if p, err := Current(e); p != "" || err != nil {
		t.Fatalf("Current before any = %q, %v", p, err)
	}
	if err := SetCurrent(e, "ci-user"); err != nil {
		t.Fatal(err)
	}
	path, _ := CurrentPath(e.Getenv)
	if !strings.HasPrefix(path, env["XDG_STATE_HOME"]) {
		t.Errorf("current-profile file %s is not in the state directory", path)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("current-profile file: %v, %v; want 0600", fi, err)
	}
	if p, err := Current(e); p != "ci-user" || err != nil {
		t.Errorf("Current = %q, %v", p, err)
	}
	if err := SetCurrent(e, "../x"); codeOf(err) != exitUsage {
		t.Errorf("SetCurrent of an invalid name: %v", err)
	}
	if cleared, err := ClearCurrent(e, "ci-admin"); cleared || err != nil {
		t.Errorf("ClearCurrent of another profile = %v, %v; want it kept", cleared, err)
	}
	if p, _ := Current(e); p != "ci-user" {
		t.Errorf("after clearing another profile, Current = %q", p)
	}
	if cleared, err := ClearCurrent(e, "ci-user"); !cleared || err != nil {
		t.Errorf("ClearCurrent = %v, %v", cleared, err)
	}
	if p, err := Current(e); p != "" || err != nil {
		t.Errorf("after ClearCurrent, Current = %q, %v", p, err)
	}
	if err := os.WriteFile(path, []byte("$(rm -rf ~)\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var cf *CurrentFileError
	if _, err := Current(e); codeOf(err) != exitUsage || !errors.As(err, &cf) || cf.Path != path || cf.NotRegular {
		t.Errorf("Current of a broken file: %v", err)
	}
}

// TestLoginLeavesABrokenCurrentFileToItsCaller: a fresh login does not
// make its profile current over a current-profile file that names none,
// and returns why (the caller warns) instead of printing it.
func TestLoginLeavesABrokenCurrentFileToItsCaller(t *testing.T) {
	env := testutil.Home(t, nil)
	var stderr strings.Builder
	e := Env{Getenv: func(k string) string { return env[k] }, Stderr: &stderr}
	path, _ := CurrentPath(e.Getenv)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("../x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cur, made, err := makeCurrentIfNone(e, "ci")
	var cf *CurrentFileError
	if cur != "" || made || !errors.As(err, &cf) || cf.Path != path {
		t.Errorf("makeCurrentIfNone = %q, %v, %v; want none made and a *CurrentFileError", cur, made, err)
	}
	if stderr.Len() != 0 {
		t.Errorf("printed: %q", stderr.String())
	}
	if b, _ := os.ReadFile(path); string(b) != "../x\n" {
		t.Errorf("the file was changed: %q", b)
	}
}
