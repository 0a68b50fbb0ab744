package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestAgentLogoutEndsLogStream: `nomad alloc logs -f` through the agent,
// then `alilogin logout`: the profile's gates die, and the stream in
// flight ends with them (issue 21: the agent drops a profile the moment
// logout runs), though it holds the real token's connection.
func TestAgentLogoutEndsLogStream(t *testing.T) {
	au, ctx := newAgentUserFor(t, 4*time.Minute)
	alloc := runAgentJob(t, ctx, au)
	logs := followLogs(t, au, alloc)
	if p := au.run(t, "logout", "--profile", au.m.profile); p.code() != 0 {
		t.Fatalf("logout: exit %d\n%s", p.code(), p.stderr.String())
	}
	n := strings.Count(logs.stdout.String(), "\n")
	select {
	case <-logs.done:
	case <-time.After(8 * time.Second):
		more := strings.Count(logs.stdout.String(), "\n") - n
		t.Errorf("nomad alloc logs -f still streams through the agent 8 s after logout (%d lines since)", more)
	}
}
