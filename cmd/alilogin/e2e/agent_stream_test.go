package e2e

import (
	"syscall"
	"testing"
	"time"
)

// TestAgentKilledMidStream: when the agent dies while `nomad alloc logs
// -f` streams through it, the CLI exits non-zero within 5 s (its
// connection ends with the agent's process); the next `exec --agent`
// starts a new agent, a new instance, and works.
func TestAgentKilledMidStream(t *testing.T) {
	au, ctx := newAgentUserFor(t, 3*time.Minute)
	alloc := runAgentJob(t, ctx, au)
	logs := followLogs(t, au, alloc)
	before := au.status(t)

	if err := syscall.Kill(before.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-logs.done:
		if code := logs.cmd.ProcessState.ExitCode(); code == 0 {
			t.Errorf("nomad alloc logs -f exited 0 when the agent died mid-stream")
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("nomad alloc logs -f still runs 5 s after the agent died\nstderr:\n%s", logs.stderr.String())
	}

	if p := au.exec(t, "nomad", "job", "status", "agentjob"); p.code() != 0 {
		t.Fatalf("exec --agent after the agent died: exit %d\n%s", p.code(), p.stderr.String())
	}
	if after := au.status(t); after.Instance == before.Instance || after.PID == before.PID {
		t.Errorf("the agent was not started again: instance %s pid %d, before %s pid %d", after.Instance, after.PID, before.Instance, before.PID)
	}
}
