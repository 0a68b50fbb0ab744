package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/plan"
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
			refusedEverywhere(t, dir, tc.want)
			unchanged(t, before, "the refused run")
			jobsClosed("after " + tc.name)
		})
	}
}

// TestManagedPolicyWithReservedNameIsDeletedWithoutPrune: a broker before
// the reserved-name check applied nomad/anonymous.hcl, making a managed
// Nomad policy "anonymous" that opens Nomad to every request without a
// token. Once the file is gone (validate refuses it), plan names the
// policy loudly, and apply deletes it even without --prune (it is a hole,
// not a stale object): Nomad answers 403 without a token again.
func TestManagedPolicyWithReservedNameIsDeletedWithoutPrune(t *testing.T) {
	setup(t)
	ctx := context.Background()
	t.Cleanup(func() { _ = nomadC.Do(ctx, "DELETE", "/v1/acl/policy/anonymous", nil, nil) })
	dir := policiesDir(t, nil)
	mustApply(t, dir)
	// What the earlier version wrote for nomad/anonymous.hcl.
	mustDo(t, nomadC, "POST", "/v1/acl/policy/anonymous", map[string]any{
		"Name": "anonymous", "Description": plan.Description(plan.NomadPolicy, "anonymous"),
		"Rules": "namespace \"default\" {\n  policy = \"read\"\n}\n"}, nil)
	anon := nomadC.WithToken(secret.String{})
	if err := anon.Do(ctx, "GET", "/v1/jobs", nil, nil); err != nil {
		t.Fatalf("setup: the anonymous policy is not in force: %v", err)
	}
	const warning = `warning: the broker's nomad acl policy "anonymous" has a reserved name`
	code, out, stderr := broker(t, "plan", "--detailed-exitcode", dir)
	if code != exitChanges || !strings.Contains(stderr, warning) || !strings.Contains(out, `- nomad acl policy "anonymous"  (reserved name: deleted even without --prune)`) {
		t.Errorf("plan: exit %d; want 2, %q on stderr and the delete in the plan", code, warning)
	}
	code, _, stderr = broker(t, "apply", "--auto-approve", dir)
	if code != exitOK || !strings.Contains(stderr, warning) {
		t.Errorf("apply: exit %d; want 0 and %q", code, warning)
	}
	if err := anon.Do(ctx, "GET", "/v1/jobs", nil, nil); apiclient.StatusOf(err) != 403 {
		t.Errorf("after apply (no --prune), GET /v1/jobs without a token: %v, want 403", err)
	}
	if code, _, _ := broker(t, "plan", "--detailed-exitcode", dir); code != exitOK {
		t.Errorf("plan after the delete: exit %d, want 0", code)
	}
}

// TestProfileNamedLikeTheBrokersOwnRolesIsRefused: operations.md sets up
// Vault roles named alilogin-broker (a nomad role of type management, a
// consul role) for broker serve; a profile of that name would make the
// JWT role whose token reads nomad/creds/alilogin-broker, a management
// token. validate, plan and apply refuse it at the profile's name, and
// write nothing.
func TestProfileNamedLikeTheBrokersOwnRolesIsRefused(t *testing.T) {
	setup(t)
	dir := policiesDir(t, map[string]string{"more.hcl": "\nprofile \"alilogin-broker\" {\n  roles          = [\"alice-ci-admins\"]\n  nomad_policies = [\"ci-read-jobs\"]\n}\n"})
	const want = `more.hcl:2:9: Reserved profile name: the profile name "alilogin-broker" is reserved`
	before := snapshot(t)
	for _, cmd := range [][]string{{"validate", dir}, {"plan", dir}, {"apply", "--auto-approve", dir}} {
		code, _, stderr := broker(t, cmd...)
		if code != exitError || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr lacks %q", cmd[0], code, want)
		}
	}
	unchanged(t, before, "the refused run")
}
