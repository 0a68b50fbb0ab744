package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDirIsPrivateAndOwned: the agent directory is made 0700 when
// missing; one that others may enter, a symlink, a file or a relative
// ALILOGIN_AGENT_DIR is refused, and so (as root) is one of another user.
func TestDirIsPrivateAndOwned(t *testing.T) {
	base := t.TempDir()
	env := func(d string) func(string) string {
		return func(k string) string {
			if k == DirVar {
				return d
			}
			return ""
		}
	}
	uid := os.Getuid()
	made := filepath.Join(base, "made")
	d, err := Dir(env(made), uid)
	if err != nil || d != made {
		t.Fatalf("Dir: %q %v", d, err)
	}
	if fi, err := os.Stat(made); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("made with %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	if _, err := ExistingDir(env(filepath.Join(base, "missing")), uid); err != ErrNotRunning {
		t.Errorf("ExistingDir of a missing directory: %v, want ErrNotRunning", err)
	}
	if _, err := os.Stat(filepath.Join(base, "missing")); !os.IsNotExist(err) {
		t.Errorf("ExistingDir made the directory")
	}
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(made, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{"mode 0755": open, "a symlink": link, "a file": file, "a relative path": "rel/dir"}
	if uid == 0 {
		other := filepath.Join(base, "other")
		if err := os.Mkdir(other, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(other, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		cases["another user's"] = other
	}
	for name, d := range cases {
		if got, err := Dir(env(d), uid); err == nil || !strings.Contains(err.Error(), "agent directory") {
			t.Errorf("%s (%s): %q, %v; want refused", name, d, got, err)
		}
	}
	// Without the variable: derived from the uid, not XDG_RUNTIME_DIR.
	a, err := Dir(func(k string) string {
		if k == "XDG_RUNTIME_DIR" {
			return base
		}
		return ""
	}, uid)
	if err != nil || strings.HasPrefix(a, base) || !strings.Contains(a, "alilogin-agent") {
		t.Errorf("Dir without %s: %q %v", DirVar, a, err)
	}
}
