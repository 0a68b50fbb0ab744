package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/testutil"
)

// processesOf lists the live processes whose environment has HOME=home:
// whatever alilogin started for this test's user, wherever it was
// reparented to. (Reading another process's environ needs the same user and
// a dumpable process: the daemons it would start are both.)
func processesOf(home string) map[int]string {
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	want := []byte("HOME=" + home + "\x00")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(append([]byte{0}, env...), append([]byte{0}, want...)) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ...: a zombie has ended.
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		out[pid] = strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return out
}

// TestNoBusStartsNoDaemon: without a session bus (an SSH session, cron, a
// CI job), login, token, status and logout use the file store with the
// one-line notice, and leave no process behind: no autolaunched
// dbus-daemon, no D-Bus-activated gnome-keyring-daemon.
func TestNoBusStartsNoDaemon(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	u, profile, name, pw := newLoginUser(t, ctx, "nobus-users")
	delete(u.env, "DBUS_SESSION_BUS_ADDRESS")
	u.env["XDG_RUNTIME_DIR"] = t.TempDir() // no bus socket in it
	t.Cleanup(func() {
		for pid := range processesOf(u.home) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if before := processesOf(u.home); len(before) != 0 {
		t.Fatalf("processes of this test's user before it ran: %v", before)
	}

	p := loginOK(t, ctx, u, name, pw, "login", "--profile", profile)
	if !strings.Contains(p.stderr.String(), "no OS keyring reachable (no D-Bus session bus") {
		t.Errorf("login gave no notice of the file store; stderr:\n%s", p.stderr.String())
	}
	if _, err := os.Stat(filepath.Join(u.env["XDG_STATE_HOME"], "alilogin", "records", profile+".json")); err != nil {
		t.Errorf("the login is not in the file store: %v", err)
	}
	for _, args := range [][]string{{"token", "--for", "vault", "--profile", profile}, {"status", "--profile", profile}, {"logout", "--profile", profile}} {
		p := u.run(t, args...)
		if p.code() != 0 {
			t.Fatalf("%s: exit %d; stderr:\n%s", args[0], p.code(), p.stderr.String())
		}
	}
	// The daemons, had any started, would stay; short-lived helpers of the
	// browser go within the deadline.
	var left map[int]string
	if !testutil.Eventually(10*time.Second, func() bool { left = processesOf(u.home); return len(left) == 0 }) {
		t.Errorf("%d processes outlived alilogin login, token, status and logout: %v", len(left), left)
	}
}
