package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSetupVaultHelperPlace: with a config directory whose path has a
// space (macOS's ~/Library/Application Support) the script goes to
// ~/.local/bin, and token_helper names it as one shell word; a home
// that no shell-safe place is found in is refused with nothing written;
// a token_helper replaced is said, with its old value.
func TestSetupVaultHelperPlace(t *testing.T) {
	home := t.TempDir()
	cfg := filepath.Join(home, "Application Support")
	vaultCfg := filepath.Join(home, ".vault")
	if err := os.WriteFile(vaultCfg, []byte("token_helper = \"/opt/other/helper\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, _, errb := testEnv(map[string]string{"HOME": home, "XDG_CONFIG_HOME": cfg})
	if code := run(context.Background(), []string{"setup", "--vault-token-helper"}, e); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := filepath.Join(home, ".local", "bin", "alilogin-vault-token-helper")
	got, err := os.ReadFile(vaultCfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), `token_helper = "`+want+`"`) {
		t.Errorf("~/.vault:\n%s\nwant token_helper %s", got, want)
	}
	if st, err := os.Stat(want); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("script %s: %v %v", want, st, err)
	}
	if !strings.Contains(errb.String(), `Replaced token_helper = "/opt/other/helper"`) {
		t.Errorf("the replaced helper is not said:\n%s", errb.String())
	}

	bad := filepath.Join(t.TempDir(), "my home")
	if err := os.Mkdir(bad, 0o700); err != nil {
		t.Fatal(err)
	}
	e, _, errb = testEnv(map[string]string{"HOME": bad, "XDG_CONFIG_HOME": filepath.Join(bad, ".config")})
	if code := run(context.Background(), []string{"setup", "--vault-token-helper"}, e); code == 0 || !strings.Contains(errb.String(), "could not find a place for the token helper script") {
		t.Errorf("exit %d: %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(bad, ".vault")); err == nil {
		t.Error("~/.vault written although no safe place was found")
	}
}
