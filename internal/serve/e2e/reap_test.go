package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/testutil"
)

// orphanFromVault reads nomad/creds/role through Vault, then makes Vault
// drop the lease without revoking the token: the engine is pointed at a
// dead address so that the revocation fails, and sys/leases/revoke-force
// removes the lease anyway. That is a lost revocation as Nomad sees it.
func orphanFromVault(t *testing.T, role string) string {
	t.Helper()
	ctx := context.Background()
	v := stack.Vault.Client()
	var out struct {
		LeaseID string         `json:"lease_id"`
		Data    map[string]any `json:"data"`
	}
	must(t, v.Do(ctx, "GET", "/v1/nomad/creds/"+role, nil, &out))
	must(t, v.Do(ctx, "POST", "/v1/nomad/config/access", map[string]any{"address": "http://127.0.0.1:1", "token": stack.Nomad.ManagementToken}, nil))
	must(t, v.Do(ctx, "PUT", "/v1/sys/leases/revoke-force/"+out.LeaseID, nil, nil))
	must(t, v.Do(ctx, "POST", "/v1/nomad/config/access", map[string]any{"address": stack.Nomad.Addr, "token": stack.Nomad.ManagementToken}, nil))
	acc, _ := out.Data["accessor_id"].(string)
	if acc == "" {
		t.Fatalf("no accessor in %v", out.Data)
	}
	return acc
}

func TestServeReapsOrphans(t *testing.T) {
	setup(t)
	ctx := context.Background()
	src, err := os.ReadFile(filepath.Join(repoRoot, "policies", "profiles.hcl"))
	must(t, err)
	// ci-user with a max TTL of seconds, so that the test need not wait hours.
	short := strings.Replace(string(src), "ttl             = \"1h\"\n  max_ttl         = \"12h\"", "ttl             = \"2s\"\n  max_ttl         = \"3s\"", 1)
	if short == string(src) {
		t.Fatal("could not shorten ci-user's TTLs in the example")
	}
	dir := policiesDir(t, map[string]string{"profiles.hcl": short})
	b := startBroker(t, "reap", dir, nil, "--interval", "1s", "--reap-grace", "1s", "--lock-key", "test/reap")
	testutil.WaitFor(t, time.Minute, "the broker to be ready", func() bool { c, _ := b.status(); return c == 200 })
	// Ready can come before the first run, which makes ci-user's roles.
	testutil.WaitFor(t, time.Minute, "the first reconcile run", func() bool {
		return b.metric(`alilogin_broker_reconcile_runs_total{result="ok"}`) >= 1
	})

	n := stack.Nomad.Client()
	t0 := time.Now() // before the token exists: time.Since(t0) >= its age
	orphan := orphanFromVault(t, "ci-user")
	var hand struct{ AccessorID string }
	must(t, n.Do(ctx, "POST", "/v1/acl/token", map[string]any{"Name": "ops-ci-user-deploy", "Type": "client", "Policies": []string{"ci-read-jobs"}}, &hand))
	var lookalike struct{ AccessorID string }
	must(t, n.Do(ctx, "POST", "/v1/acl/token", map[string]any{"Name": "vault-unmanaged-token-1", "Type": "client", "Policies": []string{"ci-read-jobs"}}, &lookalike))

	testutil.WaitFor(t, 30*time.Second, "the orphan to be reaped", func() bool {
		return apiclient.StatusOf(n.Do(ctx, "GET", "/v1/acl/token/"+orphan, nil, nil)) == 404
	})
	took := time.Since(t0)
	t.Logf("orphan reaped %s after it was made (max TTL 3s + grace 1s, interval 1s)", took.Round(time.Millisecond))
	if took < 4*time.Second {
		t.Errorf("reaped at most %s after it was made, before max TTL + grace", took)
	}
	for _, acc := range []string{hand.AccessorID, lookalike.AccessorID} {
		if err := n.Do(ctx, "GET", "/v1/acl/token/"+acc, nil, nil); err != nil {
			t.Errorf("unmanaged token %s was touched: %v", acc, err)
		}
	}
	testutil.WaitFor(t, 5*time.Second, "tokens_reaped_total", func() bool {
		return b.metric(`alilogin_broker_tokens_reaped_total{system="nomad"}`) >= 1
	})
	b.stop(t)
}
