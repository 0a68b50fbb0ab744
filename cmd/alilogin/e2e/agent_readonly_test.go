package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestAgentReadOnlyProfile: a profile the config file makes read-only
// (agent { read_only = true }) reads through the agent and is refused a
// write, with a message that says why, and the write does not reach
// Consul.
func TestAgentReadOnlyProfile(t *testing.T) {
	au, ctx := newAgentUserFor(t, 3*time.Minute)
	au.writeConfig(t, "profile \""+au.m.profile+"\" {\n  agent {\n    read_only = true\n  }\n}\n")
	if p := au.exec(t, "nomad", "job", "status"); p.code() != 0 {
		t.Errorf("nomad job status on a read-only profile: exit %d\n%s", p.code(), p.stderr.String())
	}
	p := au.exec(t, "consul", "kv", "put", "agent/ro", "written")
	if p.code() == 0 || !strings.Contains(p.stderr.String(), "read-only") {
		t.Errorf("consul kv put on a read-only profile: exit %d\n%s\n%s", p.code(), p.stdout.String(), p.stderr.String())
	}
	var got []any
	if err := au.m.consul.Client().Do(ctx, "GET", "/v1/kv/agent/ro", nil, &got); err == nil {
		t.Errorf("the refused write reached Consul: %v", got)
	}
}
