package teststack

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// becomeSubreaper makes this test binary the reaper of its descendants:
// a process whose parent ends (a daemon that forked away, an autolaunched
// dbus-daemon, a D-Bus-activated gnome-keyring-daemon) is reparented to the
// test binary instead of to init, so that what outlives the tests can be
// found, counted exactly and ended, whatever else runs on the machine.
func becomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// children returns this process's live children (pid → command line); the
// zombies among them, orphans that ended, are reaped on the way.
func children() map[int]string {
	self := os.Getpid()
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := statFields(pid) // state ppid ...
		if err != nil || len(f) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(f[1]); ppid != self {
			continue
		}
		if f[0] == "Z" {
			var ws syscall.WaitStatus
			_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		out[pid] = strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return out
}

// endLeftovers waits up to d for the children of this process to end (all
// of them: it runs after the stack's servers and the tests are done), then
// lists those still there on w, kills and reaps them, and returns how many
// there were.
func endLeftovers(w io.Writer, d time.Duration) int {
	deadline := time.Now().Add(d)
	left := children()
	for len(left) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		left = children()
	}
	if len(left) == 0 {
		return 0
	}
	pids := make([]int, 0, len(left))
	for pid := range left {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	fmt.Fprintf(w, "teststack: %d processes outlived the tests and the stack (killed now):\n", len(pids))
	for _, pid := range pids {
		fmt.Fprintf(w, "  %d %s\n", pid, left[pid])
		_ = syscall.Kill(pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(pid, &ws, 0, nil)
	}
	return len(pids)
}
