package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/agent"
)

// TestAgentRunStopsOnSIGTERM: `alilogin agent run` (a systemd unit's
// ExecStart) stays in the foreground, says on stderr where it listens,
// refuses a second agent in the same directory, and on SIGTERM stops
// cleanly: exit 0, its socket and instance file removed. It runs on one
// processor with its soft memory limit (agent status says so).
func TestAgentRunStopsOnSIGTERM(t *testing.T) {
	u := newUser(t)
	dir := u.agentDir(t)
	p := u.start(t, "agent", "run")
	p.waitLine(t, regexp.MustCompile(`alilogin agent: (running) \(instance`), time.Minute)
	for _, f := range []string{agent.SocketName, agent.InstanceName} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("while running: %v", err)
		}
	}
	if second := u.run(t, "agent", "run"); second.code() != 1 || !regexp.MustCompile(`running already`).MatchString(second.stderr.String()) {
		t.Errorf("a second agent run: exit %d\n%s", second.code(), second.stderr.String())
	}
	if st := u.run(t, "agent", "status"); st.code() != 0 {
		t.Errorf("agent status: exit %d\n%s", st.code(), st.stderr.String())
	} else if !strings.Contains(st.stdout.String(), "Go on 1 processor (GOMAXPROCS), soft memory limit 28 MiB") {
		t.Errorf("agent status does not say the agent runs on one processor with its memory limit:\n%s", st.stdout.String())
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, err := p.wait(10 * time.Second)
	if err != nil || code != 0 {
		t.Errorf("after SIGTERM: exit %d, %v\nstderr:\n%s", code, err, p.stderr.String())
	}
	for _, f := range []string{agent.SocketName, agent.InstanceName} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s left after SIGTERM: %v", f, err)
		}
	}
	if st := u.run(t, "agent", "status"); st.code() != 1 {
		t.Errorf("agent status with no agent: exit %d, want 1\n%s", st.code(), st.stderr.String())
	}
}

// TestAgentStartedOnDemandKeepsTheMonitorAwake: an agent that a command
// starts runs with GODEBUG's schedtrace set (agent.MonitorAwake: the Go
// runtime's monitor thread is not woken by every request), and says so
// in agent status; one run by hand without it says its monitor sleeps.
func TestAgentStartedOnDemandKeepsTheMonitorAwake(t *testing.T) {
	u := newUser(t)
	if r := u.run(t, "agent", "start"); r.code() != 0 {
		t.Fatalf("agent start: exit %d\n%s", r.code(), r.stderr.String())
	}
	st := u.run(t, "agent", "status")
	if !strings.Contains(st.stdout.String(), "monitor thread kept awake (GODEBUG schedtrace)") {
		t.Errorf("agent status of an agent started on demand:\n%s", st.stdout.String())
	}
	if r := u.run(t, "agent", "stop"); r.code() != 0 {
		t.Fatalf("agent stop: exit %d\n%s", r.code(), r.stderr.String())
	}
	p := u.start(t, "agent", "run")
	p.waitLine(t, regexp.MustCompile(`alilogin agent: (running) \(instance`), time.Minute)
	st = u.run(t, "agent", "status")
	if !strings.Contains(st.stdout.String(), "monitor thread sleeps when idle") {
		t.Errorf("agent status of an agent run by hand without GODEBUG:\n%s", st.stdout.String())
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code, err := p.wait(10 * time.Second); err != nil || code != 0 {
		t.Errorf("after SIGTERM: exit %d, %v", code, err)
	}
}
