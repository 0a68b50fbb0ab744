package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/testutil"
)

// TestServeDeletesReservedPolicyAndWarnsOfOpenDefaultPolicy: broker serve
// (without --prune) deletes a managed Nomad policy named anonymous, which
// an earlier broker may have made and which opens Nomad to requests
// without a token, and logs why; and it follows Vault's default policy:
// alilogin_broker_vault_default_policy_open is 0 with the lease deny the
// test stack adds, 1 with Vault's stock default policy, which it logs with
// the text to add.
func TestServeDeletesReservedPolicyAndWarnsOfOpenDefaultPolicy(t *testing.T) {
	setup(t)
	ctx := context.Background()
	v, n := stack.Vault.Client(), stack.Nomad.Client()
	t.Cleanup(func() { _ = n.Do(ctx, "DELETE", "/v1/acl/policy/anonymous", nil, nil) })
	dir := policiesDir(t, map[string]string{})
	b := startBroker(t, "warn", dir, nil, "--interval", "2s", "--lock-key", "test/warn")
	runs := func(want float64) func() bool {
		return func() bool { return b.metric(`alilogin_broker_reconcile_runs_total{result="ok"}`) >= want }
	}
	testutil.WaitFor(t, time.Minute, "the first reconcile run", runs(1))
	if g := b.metric("alilogin_broker_vault_default_policy_open"); g != 0 {
		t.Errorf("vault_default_policy_open = %v with the lease deny in Vault's default policy, want 0", g)
	}

	must(t, n.Do(ctx, "POST", "/v1/acl/policy/anonymous", map[string]any{
		"Name": "anonymous", "Description": plan.Description(plan.NomadPolicy, "anonymous"),
		"Rules": "namespace \"default\" {\n  policy = \"read\"\n}\n"}, nil))
	testutil.WaitFor(t, 30*time.Second, "the managed anonymous policy to be deleted", func() bool {
		return apiclient.StatusOf(n.Do(ctx, "GET", "/v1/acl/policy/anonymous", nil, nil)) == 404
	})
	// The run logs its warnings when it ends, after the delete.
	testutil.WaitFor(t, 30*time.Second, "the log to say why the anonymous policy was deleted", func() bool {
		return strings.Contains(b.log.String(), `the broker's nomad acl policy \"anonymous\" has a reserved name`)
	})

	var def struct {
		Data struct {
			Policy string `json:"policy"`
		} `json:"data"`
	}
	must(t, v.Do(ctx, "GET", "/v1/sys/policies/acl/default", nil, &def))
	t.Cleanup(func() {
		_ = v.Do(ctx, "PUT", "/v1/sys/policies/acl/default", map[string]any{"policy": def.Data.Policy}, nil)
	})
	must(t, v.Do(ctx, "PUT", "/v1/sys/policies/acl/default", map[string]any{"policy": stack.Vault.StockDefaultPolicy}, nil))
	testutil.WaitFor(t, 30*time.Second, "vault_default_policy_open at 1", func() bool {
		return b.metric("alilogin_broker_vault_default_policy_open") == 1
	})
	if log := b.log.String(); !strings.Contains(log, "Vault's default policy lets every token renew") || !strings.Contains(log, `denied_parameters`) {
		t.Errorf("the log does not warn of Vault's default policy with the text to add:\n%s", log)
	}
}
