package main

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExecDefaultsForToTheCommandsServer: without --for, exec gives the
// vault (or bao), nomad or consul CLI only that server's token (nomad
// job run copies VAULT_TOKEN and CONSUL_HTTP_TOKEN into the job it
// submits); another command gets every token; --for always wins.
func TestExecDefaultsForToTheCommandsServer(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--", "nomad", "job", "run", "web.hcl"}, []string{"nomad"}},
		{[]string{"--", "/opt/hashicorp/nomad-1.6.1", "status"}, []string{"nomad"}},
		{[]string{"--", "consul", "kv", "get", "x"}, []string{"consul"}},
		{[]string{"--", "vault", "token", "lookup"}, []string{"vault"}},
		{[]string{"--", "/usr/bin/bao", "status"}, []string{"vault"}},
		{[]string{"--", "NOMAD.EXE", "status"}, []string{"nomad"}},
		{[]string{"--", "./deploy.sh"}, nil},
		{[]string{"--", "nomad-pack", "run"}, nil},
		{[]string{"--for", "nomad,vault", "--", "nomad", "job", "run", "web.hcl"}, []string{"nomad", "vault"}},
	} {
		e, _, _ := testEnv(nil)
		var got *execOptions
		c := newExecCmdWith(e, func(_ context.Context, _ *cmdEnv, o *execOptions) error { got = o; return nil })
		if code := runCmd(e, c, append([]string{"--profile", "ci-user"}, tc.args...)); code != 0 || got == nil {
			t.Fatalf("exec %q: exit %d", tc.args, code)
		}
		if !cmp.Equal(got.For, tc.want) {
			t.Errorf("exec %q: --for %q, want %q", tc.args, got.For, tc.want)
		}
	}
}
