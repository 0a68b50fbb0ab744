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
