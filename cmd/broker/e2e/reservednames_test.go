package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
)

// TestReservedPolicyNamesAreRefused: a policy file named as a policy with
// a meaning to its server (Nomad's anonymous, which Nomad applies to every
// request without a token; Consul's built-in global-management; Vault's
// response-wrapping and control-group) is refused by validate, plan and
// apply with its file and line, and nothing is written: in particular
// Nomad still answers 403 to GET /v1/jobs without a token.
func TestReservedPolicyNamesAreRefused(t *testing.T) {
	setup(t)
	ctx := context.Background()
	anonymous := nomadC.WithToken(secret.String{})
	jobsClosed := func(when string) {
		t.Helper()
		if err := anonymous.Do(ctx, "GET", "/v1/jobs", nil, nil); apiclient.StatusOf(err) != 403 {
			t.Errorf("%s: GET /v1/jobs without a token: %v, want 403", when, err)
		}
	}
	jobsClosed("before")
	// Should an apply get through, the stack is put back for the other
	// tests.
	t.Cleanup(func() { _ = nomadC.Do(ctx, "DELETE", "/v1/acl/policy/anonymous", nil, nil) })

	tests := []struct {
		name, file, rules, want string
	}{
		{"nomad anonymous", "nomad/anonymous.hcl", "namespace \"default\" {\n  policy = \"read\"\n}\n",
			`nomad/anonymous.hcl:1:1: Reserved policy name: the nomad policy name "anonymous" is reserved: Nomad applies the policy named anonymous to every request made without a token`},
		{"consul global-management", "consul/global-management.hcl", "key_prefix \"\" {\n  policy = \"read\"\n}\n",
			`consul/global-management.hcl:1:1: Reserved policy name: the consul policy name "global-management" is reserved`},
		{"vault response-wrapping", "vault/response-wrapping.hcl", "path \"kv/*\" {\n  capabilities = [\"read\"]\n}\n",
			`vault/response-wrapping.hcl:1:1: Reserved policy name: the vault policy name "response-wrapping" is reserved`},
		{"vault control-group", "vault/control-group.hcl", "path \"kv/*\" {\n  capabilities = [\"read\"]\n}\n",
			`vault/control-group.hcl:1:1: Reserved policy name: the vault policy name "control-group" is reserved`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := policiesDir(t, map[string]string{tc.file: tc.rules})
			before := snapshot(t)
			for _, cmd := range [][]string{{"validate", dir}, {"plan", dir}, {"apply", "--auto-approve", dir}} {
				code, _, stderr := broker(t, cmd...)
				if code != exitError || !strings.Contains(stderr, tc.want) {
					t.Errorf("%s: exit %d, stderr lacks %q", cmd[0], code, tc.want)
				}
			}
			if d := cmp.Diff(before, snapshot(t)); d != "" {
				t.Errorf("servers changed (-before +after):\n%s", d)
			}
			jobsClosed("after " + tc.name)
		})
	}
}
