package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// explain says which profiles are read-only through the alilogin agent.
func TestExplainShowsAgentReadOnly(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../policies")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "profiles.hcl")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	marked := strings.Replace(string(b), "  consul_policies = [\"catalog-kv-read\"]\n", "  consul_policies = [\"catalog-kv-read\"]\n  agent {\n    read_only = true\n  }\n", 1)
	if err := os.WriteFile(p, []byte(marked), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"explain", dir, "--roles", "alice-ci-admins"}, "ci-user (via alice-ci-admins)\n"},
		{[]string{"explain", dir, "--roles", "alice-ci-admins", "--json"}, `"agent_read_only": true`},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), c.args, &cmdEnv{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
		if code != 0 || !strings.Contains(out.String(), c.want) {
			t.Fatalf("exit %d, stdout:\n%s\nstderr: %s", code, out.String(), errb.String())
		}
		if n := strings.Count(out.String(), "read-only routes") + strings.Count(out.String(), `"agent_read_only": true`); n != 1 {
			t.Errorf("read-only shown %d times, want once (ci-user only):\n%s", n, out.String())
		}
	}
}
