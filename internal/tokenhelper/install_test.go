package tokenhelper

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestSetHelperKeepsOtherSettings(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, before, want string }{
		{"new file", "", "token_helper = \"/h/x\"\n"},
		{"replaced", "# mine\ntoken_helper = \"/old\" # keep me\n", "# mine\ntoken_helper = \"/h/x\" # keep me\n"},
		{"added", "# mine\n", "# mine\ntoken_helper = \"/h/x\"\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name)
			if c.before != "" {
				if err := os.WriteFile(p, []byte(c.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := SetHelper(p, "/h/x"); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(p)
			if string(b) != c.want {
				t.Errorf("got %q, want %q", b, c.want)
			}
			if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v", st.Mode())
			}
		})
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("token_helper = \n{{{"), 0o600)
	if err := SetHelper(bad, "/h/x"); err == nil {
		t.Error("a file that is not HCL was rewritten")
	}
	if b, _ := os.ReadFile(bad); string(b) != "token_helper = \n{{{" {
		t.Errorf("the bad file changed: %q", b)
	}
}

// TestScript: the script runs the alilogin it names, even with a space
// and a quote in its path, with the verb the vault CLI gives.
func TestScript(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "it's here")
	fake := filepath.Join(dir, "alilogin")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nprintf '%s|' \"$@\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "cfg", "vault-token-helper")
	if err := WriteScript(script, Script(fake)); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(script); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("mode %v, %v", st.Mode(), err)
	}
	out, err := exec.Command(script, "get").Output()
	if err != nil || string(out) != "vault-token-helper|get|" {
		t.Errorf("script ran %q, %v", out, err)
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(script), ".*tmp")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func TestConfigPath(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if p, _ := ConfigPath(env(map[string]string{"HOME": "/home/u"})); p != "/home/u/.vault" {
		t.Errorf("default: %s", p)
	}
	if p, _ := ConfigPath(env(map[string]string{"HOME": "/home/u", "VAULT_CONFIG_PATH": "/etc/v.hcl"})); p != "/etc/v.hcl" {
		t.Errorf("VAULT_CONFIG_PATH: %s", p)
	}
	if _, err := ConfigPath(env(map[string]string{"VAULT_CONFIG_PATH": "rel.hcl"})); err == nil {
		t.Error("a relative VAULT_CONFIG_PATH was taken")
	}
}
