package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
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
	oldHome := lookupHome
	home := t.TempDir()
	lookupHome = func(int) string { return home }
	t.Cleanup(func() { lookupHome = oldHome })
	t.Setenv("TMPDIR", t.TempDir())
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

// plantForeign puts at path what another user would: as root, a
// directory of nobody's (uid 65534); otherwise a symlink to a directory
// elsewhere (what Dir refuses just as well).
func plantForeign(t *testing.T, path string) {
	t.Helper()
	if os.Getuid() == 0 {
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := os.Symlink(t.TempDir(), path); err != nil {
		t.Fatal(err)
	}
}

// TestAnotherUserCannotBlockTheAgentDir: on a host without
// /run/user/UID (no systemd-logind session: plain ssh without
// pam_systemd, containers, batch nodes), another local user who makes
// the agent directory's name first (the old predictable
// /tmp/alilogin-agent-UID, or the name the user's directory had before a
// reboot or a /tmp cleaner removed it) does not keep the user from
// running an agent; and every shell of the user, whatever its
// XDG_RUNTIME_DIR or TMPDIR, still finds one directory.
func TestAnotherUserCannotBlockTheAgentDir(t *testing.T) {
	uid := os.Getuid()
	home := t.TempDir()
	oldRun, oldHome := runUserRoot, lookupHome
	runUserRoot = filepath.Join(t.TempDir(), "no-run-user")
	lookupHome = func(int) string { return home }
	t.Cleanup(func() { runUserRoot, lookupHome = oldRun, oldHome })
	env := func(vars ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(vars); i += 2 {
				if vars[i] == k {
					return vars[i+1]
				}
			}
			return ""
		}
	}
	t.Setenv("TMPDIR", t.TempDir()) // this test's /tmp
	predictable := filepath.Join(os.TempDir(), tmpDirPrefix+strconv.Itoa(uid))
	plantForeign(t, predictable)

	d1, err := Dir(env(), uid)
	if err != nil {
		t.Fatalf("uid %d cannot have an agent once another user made %s: %v", uid, predictable, err)
	}
	if d1 == predictable {
		t.Fatalf("Dir gave the directory another user made: %s", d1)
	}
	if n := len(filepath.Join(d1, SocketName)); n >= maxSocketPath {
		t.Errorf("the socket path is %d bytes, too long for a UNIX socket", n)
	}
	other := t.TempDir()
	for _, e := range []func(string) string{env("XDG_RUNTIME_DIR", other), env("TMPDIR", other, "HOME", other)} {
		if d, err := Dir(e, uid); err != nil || d != d1 {
			t.Errorf("another shell's environment finds %q, %v; want the same directory %s", d, err, d1)
		}
	}
	if d, err := ExistingDir(env(), uid); err != nil || d != d1 {
		t.Errorf("ExistingDir: %q %v, want %s", d, err, d1)
	}

	// The directory goes (a reboot, a /tmp cleaner), and another user,
	// who saw its name, makes one of that name first.
	if err := os.RemoveAll(d1); err != nil {
		t.Fatal(err)
	}
	plantForeign(t, d1)
	// An agent of the user may still run, unreachable: a command that
	// only talks to one (logout) says so instead of taking it for none.
	if _, err := ExistingDir(env(), uid); err == nil || errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "belongs to uid") {
		t.Errorf("ExistingDir of a name another user took: %v, want an error that says whose it is", err)
	}
	d2, err := Dir(env(), uid)
	if err != nil {
		t.Fatalf("uid %d cannot have an agent once another user took %s: %v", uid, d1, err)
	}
	if d2 == d1 {
		t.Fatalf("Dir gave the directory another user made: %s", d2)
	}
	if d, err := Dir(env("XDG_RUNTIME_DIR", other), uid); err != nil || d != d2 {
		t.Errorf("after the move another shell finds %q, %v; want %s", d, err, d2)
	}
}
