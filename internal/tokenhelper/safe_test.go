package tokenhelper

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShellSafe: only paths a shell reads as one plain word.
func TestShellSafe(t *testing.T) {
	for p, want := range map[string]bool{
		"/home/u/.config/alilogin/vault-token-helper":                      true,
		"/home/first.last@cern.ch/.local/bin/alilogin-vault-token-helper":  true,
		"/Users/u/Library/Application Support/alilogin/vault-token-helper": false,
		"relative/vault-token-helper":                                      false,
		"/home/u/$(id)/x":                                                  false,
		"/home/u/x;id":                                                     false,
		"/home/u/it's/x":                                                   false,
		"/home/u/*/x":                                                      false,
		"/home/u/~x":                                                       false,
		"/home/u/\tx":                                                      false,
		"/home/ü/x":                                                        false,
	} {
		if got := ShellSafe(p); got != want {
			t.Errorf("ShellSafe(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestScriptNotOverAFileOthersCanWrite: an existing script that group
// or others may write is not trusted, nor written over.
func TestScriptNotOverAFileOthersCanWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "vault-token-helper")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o722); err != nil {
		t.Fatal(err)
	}
	if err := WriteScript(p, Script([]string{"/usr/bin/alilogin"})); err == nil || !strings.Contains(err.Error(), "chmod go-w") {
		t.Errorf("got %v, want a refusal", err)
	}
	if err := os.Chmod(p, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := WriteScript(p, Script([]string{"/usr/bin/alilogin"})); err != nil {
		t.Errorf("the user's own script: %v", err)
	}
}

// TestCurrentHelper: the setting as written, "" when absent.
func TestCurrentHelper(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".vault")
	if got, err := CurrentHelper(p); err != nil || got != "" {
		t.Errorf("no file: %q, %v", got, err)
	}
	if err := os.WriteFile(p, []byte("# mine\ntoken_helper = \"/opt/other/helper\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := CurrentHelper(p); err != nil || got != `"/opt/other/helper"` {
		t.Errorf("got %q, %v", got, err)
	}
}

// TestScriptNotInDirOthersCanWrite: the helper script is code
// that the vault CLI runs for every command, as the user, and whose
// output is the token the CLI sends: whoever can replace it runs code as
// the user. WriteScript writes it into an existing
// directory that others may write (a config directory made group- or
// world-writable by a umask or by hand) without a word, so another user
// can rename their own script over it.
func TestScriptNotInDirOthersCanWrite(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o770} {
		dir := filepath.Join(t.TempDir(), "alilogin")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		err := WriteScript(filepath.Join(dir, "vault-token-helper"), Script([]string{"/usr/bin/alilogin"}))
		st, serr := os.Stat(dir)
		if serr != nil {
			t.Fatal(serr)
		}
		if err == nil && st.Mode().Perm()&0o022 != 0 {
			t.Errorf("script written into %s, mode %v: others may replace it", dir, st.Mode())
		}
	}
}

// TestScriptNotUnderParentOthersCanWrite: WriteScript checks
// the script's own directory only. When a directory above it may be
// written by others and is not sticky (XDG_CONFIG_HOME in a group's
// shared directory, a home made group-writable), another user renames
// the user's private directory away and puts their own directory, with
// their own script, at the same path: the vault CLI then runs their code
// as the user at every command. Setup must refuse such a place as it
// refuses a directory others can write.
func TestScriptNotUnderParentOthersCanWrite(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil { // open to all, not sticky
		t.Fatal(err)
	}
	dir := filepath.Join(shared, "alilogin")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := WriteScript(filepath.Join(dir, "vault-token-helper"), Script([]string{"/usr/bin/alilogin"})); err == nil {
		t.Errorf("script written into %s under %s (mode 0777, not sticky): another user may swap the directory", dir, shared)
	}
}
