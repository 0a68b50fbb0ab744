package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/discovery"
	"github.com/alisw/alilogin/internal/testutil"
)

// orphanFromVault makes an orphan of engine/creds/role (engine nomad or
// consul; teststack's OrphanCreds: a lost revocation as the server sees
// it) and returns the token's accessor.
func orphanFromVault(t *testing.T, engine, role string) string {
	t.Helper()
	ctx := context.Background()
	dead := map[string]any{"address": "http://127.0.0.1:1", "token": stack.Nomad.ManagementToken}
	live := map[string]any{"address": stack.Nomad.Addr, "token": stack.Nomad.ManagementToken}
	accessorKey := "accessor_id"
	if engine == "consul" {
		dead = map[string]any{"address": "127.0.0.1:1", "scheme": "http", "token": stack.Consul.ManagementToken}
		live = map[string]any{"address": strings.TrimPrefix(stack.Consul.Addr, "http://"), "scheme": "http", "token": stack.Consul.ManagementToken}
		accessorKey = "accessor"
	}
	_, data, err := stack.OrphanCreds(ctx, engine, role, live, dead)
	must(t, err)
	acc, _ := data[accessorKey].(string)
	if acc == "" {
		t.Fatalf("no accessor in the %s creds", engine)
	}
	return acc
}

// shortCIUser is the example's profiles.hcl with ci-user's TTL 2 s and
// max TTL 3 s, so that a test need not wait hours.
func shortCIUser(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot, "policies", "profiles.hcl"))
	must(t, err)
	short := strings.Replace(string(src), "ttl             = \"1h\"\n  max_ttl         = \"12h\"", "ttl             = \"2s\"\n  max_ttl         = \"3s\"", 1)
	if short == string(src) {
		t.Fatal("could not shorten ci-user's TTLs in the example")
	}
	return short
}

// The reaper deletes a token only when Vault made it for a managed profile
// and lost track of it: hand-made look-alikes (a management token, a
// Vault-like name whose time is not the create time, foreign policies, a
// name cut short with no time left) and a live token whose lease Vault
// still holds all survive several passes past max TTL + grace, while the
// tokens Vault made and forgot are reaped.
func TestReaperSparesLookAlikes(t *testing.T) {
	setup(t)
	ctx := context.Background()
	short := shortCIUser(t)
	// build-operator too: its live token is past max TTL + grace as well.
	shorter := strings.Replace(short, "ttl             = \"30m\"\n  max_ttl         = \"4h\"", "ttl             = \"2s\"\n  max_ttl         = \"3s\"", 1)
	if shorter == short {
		t.Fatal("could not shorten build-operator's TTLs in the example")
	}
	dir := policiesDir(t, map[string]string{"profiles.hcl": shorter})
	b := startBroker(t, "lookalikes", dir, nil, "--interval", "1s", "--reap-grace", "1s", "--lock-key", "test/lookalikes", "--log-level", "debug")
	// Ready is not yet applied: wait for the first reconcile run.
	testutil.WaitFor(t, time.Minute, "the first reconcile run", func() bool {
		return b.metric(`alilogin_broker_reconcile_runs_total{result="ok"}`) >= 1
	})

	n, c, v := stack.Nomad.Client(), stack.Consul.Client(), stack.Vault.Client()
	nanos := func(d time.Duration) string { return strconv.FormatInt(time.Now().Add(d).UnixNano(), 10) }
	type kept struct {
		what     string
		cl       *apiclient.Client
		accessor string
	}
	var survivors []kept
	nomadToken := func(what string, body map[string]any) {
		var out struct{ AccessorID string }
		must(t, n.Do(ctx, "POST", "/v1/acl/token", body, &out))
		survivors = append(survivors, kept{what, n, out.AccessorID})
	}
	consulToken := func(what string, body map[string]any) {
		var out struct{ AccessorID string }
		must(t, c.Do(ctx, "PUT", "/v1/acl/token", body, &out))
		survivors = append(survivors, kept{what, c, out.AccessorID})
	}
	nomadToken("management token made by hand", map[string]any{"Name": "vault-ci-user-deploy-key", "Type": "management"})
	nomadToken("management token with Vault's name", map[string]any{"Name": "vault-ci-user-token-" + nanos(0), "Type": "management"})
	nomadToken("wrong time in the name", map[string]any{"Name": "vault-ci-user-token-" + nanos(-time.Hour), "Type": "client", "Policies": []string{"ci-read-jobs"}})
	nomadToken("foreign policies", map[string]any{"Name": "vault-ci-user-token-" + nanos(0), "Type": "client", "Policies": []string{"ci-submit-jobs"}})
	nomadToken("name cut short, no time", map[string]any{"Name": ("vault-ci-user-token-" + strings.Repeat("x", 300))[:256], "Type": "client", "Policies": []string{"ci-read-jobs"}})
	consulToken("global-management with Vault's description", map[string]any{"Description": "Vault ci-user token " + nanos(0),
		"Policies": []map[string]string{{"ID": "00000000-0000-0000-0000-000000000001"}}})
	consulToken("consul: wrong time", map[string]any{"Description": "Vault ci-user token " + nanos(-time.Hour), "Policies": []map[string]string{{"Name": "catalog-kv-read"}}})
	consulToken("consul: foreign policies", map[string]any{"Description": "Vault ci-user token " + nanos(0), "Policies": []map[string]string{{"Name": "services-kv-write"}}})
	// Live: made by Vault, lease held (the nomad engine's lease is the
	// largest profile TTL, ci-admin's 1h; the root token lives on). Of
	// another profile than the orphans, so that its lease, issued at
	// about their time, is not taken for theirs (which keeps them, in
	// doubt).
	var live struct {
		Data struct {
			AccessorID string `json:"accessor_id"`
		} `json:"data"`
	}
	must(t, v.Do(ctx, "GET", "/v1/nomad/creds/build-operator", nil, &live))
	survivors = append(survivors, kept{"live token, lease in Vault", n, live.Data.AccessorID})

	// Made by Vault, lease lost.
	nomadOrphan := orphanFromVault(t, "nomad", "ci-user")
	consulOrphan := orphanFromVault(t, "consul", "ci-user")
	gone := func(cl *apiclient.Client, acc string) bool {
		st := apiclient.StatusOf(cl.Do(ctx, "GET", "/v1/acl/token/"+acc, nil, nil))
		return st == 404 || st == 403 // Consul: 403 "ACL not found"
	}
	testutil.WaitFor(t, 30*time.Second, "the orphans to be reaped", func() bool {
		return gone(n, nomadOrphan) && gone(c, consulOrphan)
	})
	// Every token above is past max TTL + grace by now; three more passes.
	passes := b.metric(`alilogin_broker_reap_runs_total{result="ok"}`)
	testutil.WaitFor(t, 30*time.Second, "three more reaper passes", func() bool {
		return b.metric(`alilogin_broker_reap_runs_total{result="ok"}`) >= passes+3
	})
	for _, k := range survivors {
		if err := k.cl.Do(ctx, "GET", "/v1/acl/token/"+k.accessor, nil, nil); err != nil {
			t.Errorf("%s (%s %s) was deleted: %v", k.what, k.cl.Name, k.accessor, err)
		}
	}
	for _, series := range []string{`alilogin_broker_tokens_reaped_total{system="nomad"}`, `alilogin_broker_tokens_reaped_total{system="consul"}`} {
		if got := b.metric(series); got < 1 {
			t.Errorf("%s = %v, want at least 1", series, got)
		}
	}
	if v := b.metric(`alilogin_broker_reap_runs_total{result="error"}`); v != 0 {
		t.Errorf("reap_runs_total{error} = %v", v)
	}
	// Each reap is logged with its accessor, name, age and why.
	log := b.log.String()
	for _, acc := range []string{nomadOrphan, consulOrphan} {
		i := strings.Index(log, `"accessor":"`+acc+`"`)
		if i < 0 {
			t.Errorf("no log line for the reaped %s", acc)
			continue
		}
		line := log[strings.LastIndex(log[:i], "\n")+1:]
		line, _, _ = strings.Cut(line, "\n")
		for _, k := range []string{`"msg":"orphaned token"`, `"name":"`, `"age":"`, `"why":"made by Vault for profile ci-user`, `"deleted":true`} {
			if !strings.Contains(line, k) {
				t.Errorf("reap log line lacks %s: %s", k, line)
			}
		}
	}
	b.stop(t)
	// The live token's lease goes with the test.
	for _, k := range survivors {
		_ = k.cl.Do(ctx, "DELETE", "/v1/acl/token/"+k.accessor, nil, nil)
	}
}

// A folder that comes to declare no profile is refused like any invalid
// folder: with --prune, the configuration in force stays and nothing is
// deleted.
func TestServeKeepsConfigWhenNoProfile(t *testing.T) {
	setup(t)
	dir := policiesDir(t, map[string]string{})
	b := startBroker(t, "noprofile", dir, nil, "--interval", "1s", "--prune", "--no-reap", "--lock-key", "test/noprofile")
	testutil.WaitFor(t, time.Minute, "the first reconcile run", func() bool {
		return b.metric(`alilogin_broker_reconcile_runs_total{result="ok"}`) >= 1
	})
	writeFile(t, filepath.Join(dir, "profiles.hcl"), "# the profiles went elsewhere\n")
	testutil.WaitFor(t, 10*time.Second, "/readyz to report the folder without profile", func() bool {
		c, st := b.status()
		msg, _ := st["config_error"].(string)
		return c == 503 && strings.Contains(msg, "declares no profile block")
	})
	runs := b.metric(`alilogin_broker_reconcile_runs_total{result="ok"}`)
	testutil.WaitFor(t, 20*time.Second, "two more reconcile runs", func() bool {
		return b.metric(`alilogin_broker_reconcile_runs_total{result="ok"}`) >= runs+2
	})
	ctx := context.Background()
	for _, p := range []string{"/v1/auth/jwt/role/ci-user", "/v1/nomad/role/ci-user", "/v1/consul/roles/ci-user"} {
		if err := stack.Vault.Client().Do(ctx, "GET", p, nil, nil); err != nil {
			t.Errorf("%s after the folder lost its profiles: %v", p, err)
		}
	}
	if code, body, err := b.get(discovery.Path); err != nil || code != 200 || !strings.Contains(body, `"ci-user"`) {
		t.Errorf("discovery: %d %v %s", code, err, body)
	}
	b.stop(t)
}

func TestServeReapsOrphans(t *testing.T) {
	setup(t)
	ctx := context.Background()
	short := shortCIUser(t)
	dir := policiesDir(t, map[string]string{"profiles.hcl": short})
	b := startBroker(t, "reap", dir, nil, "--interval", "1s", "--reap-grace", "1s", "--lock-key", "test/reap")
	testutil.WaitFor(t, time.Minute, "the broker to be ready", func() bool { c, _ := b.status(); return c == 200 })
	// Ready can come before the first run, which makes ci-user's roles.
	testutil.WaitFor(t, time.Minute, "the first reconcile run", func() bool {
		return b.metric(`alilogin_broker_reconcile_runs_total{result="ok"}`) >= 1
	})

	n := stack.Nomad.Client()
	t0 := time.Now() // before the token exists: time.Since(t0) >= its age
	orphan := orphanFromVault(t, "nomad", "ci-user")
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
