package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// explain says which profiles are read-only through the alilogin agent.
func TestExplainShowsAgentReadOnly(t *testing.T) {
	dir := examplePolicies(t, nil)
	replaceInFile(t, filepath.Join(dir, "profiles.hcl"), "  consul_policies = [\"catalog-kv-read\"]\n", "  consul_policies = [\"catalog-kv-read\"]\n  agent {\n    read_only = true\n  }\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"explain", dir, "--roles", "alice-ci-admins"}, "ci-user (via alice-ci-admins)\n"},
		{[]string{"explain", dir, "--roles", "alice-ci-admins", "--json"}, `"agent_read_only": true`},
	} {
		code, out, errs := runBroker(nil, c.args...)
		if code != 0 || !strings.Contains(out, c.want) {
			t.Fatalf("exit %d, stdout:\n%s\nstderr: %s", code, out, errs)
		}
		if n := strings.Count(out, "read-only routes") + strings.Count(out, `"agent_read_only": true`); n != 1 {
			t.Errorf("read-only shown %d times, want once (ci-user only):\n%s", n, out)
		}
	}
}
