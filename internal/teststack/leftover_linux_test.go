package teststack

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/testutil"
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
	if !testutil.Eventually(10*time.Second, func() bool { return children()[pid] != "" }) {
		t.Fatalf("the orphan %d is not a child of the test binary: %v", pid, children())
	}
	if got := children()[pid]; got != "sleep 600" {
		t.Errorf("command line %q", got)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	if !testutil.Eventually(10*time.Second, func() bool { return children()[pid] == "" }) {
		t.Fatal("the killed orphan was not reaped")
	}
}
