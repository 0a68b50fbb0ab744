package store

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestReviewDbusSessionFileAutolaunches: sessionBus takes any file named
// /run/user/<uid>/dbus-session as a running bus, but the D-Bus library
// uses it only when it starts with "DBUS_SESSION_BUS_ADDRESS="; for any
// other content (empty, stale, another format) the library finds no
// address and autolaunches: dbus-launch, then gnome-keyring-daemon, both
// left behind (issue item 14). sessionBus should parse the file as the
// library does (or not accept it at all).
//
// /run/user is shared by every process of the machine, so the test runs
// itself again in a private mount namespace with a tmpfs there (root and
// unshare(1) needed: skipped otherwise, but a failure under CI=true,
// where both are there).
func TestReviewDbusSessionFileAutolaunches(t *testing.T) {
	run := fmt.Sprintf("/run/user/%d", os.Getuid())
	if os.Getenv("ALILOGIN_REVIEW_PRIVATE_RUN") != "1" {
		unshare, err := exec.LookPath("unshare")
		if err != nil || os.Getuid() != 0 {
			skipOutsideCI(t, "needs root and unshare(1) for a private /run/user")
		}
		sh := fmt.Sprintf("mount -t tmpfs tmpfs /run/user && mkdir -p %s && exec %q -test.run='^TestReviewDbusSessionFileAutolaunches$' -test.v", run, os.Args[0])
		cmd := exec.Command(unshare, "-m", "--propagation", "private", "sh", "-c", sh)
		cmd.Env = append(os.Environ(), "ALILOGIN_REVIEW_PRIVATE_RUN=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("in a private /run/user: %v\n%s", err, out)
		}
		return
	}
	if err := os.WriteFile(filepath.Join(run, "dbus-session"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	marker := filepath.Join(bin, "launched")
	script := "#!/bin/sh\necho \"$0 $*\" >> " + marker + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	_, err := NewKeyring(0, 0).Get("ci")
	t.Logf("Get: %v", err)
	if b, err := os.ReadFile(marker); err == nil {
		t.Errorf("the keyring autolaunched a session bus: %s", b)
	}
}

// skipOutsideCI skips a test that needs what CI has (root, unshare(1),
// dbus-daemon); under CI=true its absence is a failure.
func skipOutsideCI(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: must not skip)", why)
	}
	t.Skip(why)
}
