package teststack

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOrphansAreCounted: Main made this test binary a subreaper, so a
// process that a child leaves behind (as dbus-launch leaves dbus-daemon)
// is reparented here, where endLeftovers finds it.
func TestOrphansAreCounted(t *testing.T) {
	out, err := exec.Command("sh", "-c", "sleep 600 >/dev/null 2>&1 & echo $!").Output()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGKILL)
	deadline := time.Now().Add(10 * time.Second)
	for children()[pid] == "" {
		if time.Now().After(deadline) {
			t.Fatalf("the orphan %d is not a child of the test binary: %v", pid, children())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := children()[pid]; got != "sleep 600" {
		t.Errorf("command line %q", got)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	for children()[pid] != "" {
		if time.Now().After(deadline) {
			t.Fatal("the killed orphan was not reaped")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
