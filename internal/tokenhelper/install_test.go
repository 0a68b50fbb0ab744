package tokenhelper

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
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
	if err := WriteScript(script, Script([]string{fake})); err != nil {
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

// TestScriptFallsBack: the script runs the first binary of its list that
// exists and that only root or the user can replace: a moved binary (the
// recorded one gone), one writable by group, one in a directory writable
// by others, and a symbolic link are skipped; with none left it exits 1
// and says why on stderr.
func TestScriptFallsBack(t *testing.T) {
	root := t.TempDir()
	mk := func(dir string, dirMode, mode os.FileMode, out string) string {
		t.Helper()
		d := filepath.Join(root, dir)
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(d, "alilogin")
		if err := os.WriteFile(p, []byte("#!/bin/sh\nprintf '%s|' "+out+" \"$@\"\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, dirMode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	moved := filepath.Join(root, "old", "alilogin")
	groupWritable := mk("gw", 0o700, 0o770, "gw")
	inOpenDir := mk("open", 0o777, 0o700, "open")
	target := mk("target", 0o700, 0o700, "target")
	link := filepath.Join(root, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	good := mk("good", 0o755, 0o755, "good")
	run := func(bins ...string) (string, string, error) {
		t.Helper()
		script := filepath.Join(t.TempDir(), "vault-token-helper")
		if err := WriteScript(script, Script(bins)); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr strings.Builder
		c := exec.Command(script, "get")
		c.Stdout, c.Stderr = &stdout, &stderr
		err := c.Run()
		return stdout.String(), stderr.String(), err
	}
	if out, errOut, err := run(moved, groupWritable, inOpenDir, link, good); err != nil || out != "good|vault-token-helper|get|" {
		t.Errorf("ran %q (stderr %q, %v), want the good binary", out, errOut, err)
	}
	out, errOut, err := run(moved, groupWritable, inOpenDir, link)
	if err == nil || out != "" || !strings.Contains(errOut, "no alilogin binary that only root or you can replace") || !strings.Contains(errOut, moved) {
		t.Errorf("with no usable binary: stdout %q, stderr %q, %v; want exit 1 and why", out, errOut, err)
	}
}

// TestBinaries: the recorded binary first, then the package's places,
// then the user's, once each.
func TestBinaries(t *testing.T) {
	got := Binaries("/usr/bin/alilogin", "/home/u")
	want := []string{"/usr/bin/alilogin", "/usr/local/bin/alilogin", "/home/u/.local/bin/alilogin", "/home/u/bin/alilogin", "/home/u/go/bin/alilogin"}
	if !slices.Equal(got, want) {
		t.Errorf("Binaries = %q, want %q", got, want)
	}
}
