package e2e

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/reaper"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/teststack"
)

var stack *teststack.Stack

func TestMain(m *testing.M) {
	os.Exit(teststack.Main(m, teststack.Options{NoHydra: true, NoKeyring: true}, &stack))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// withEngines gives a test two minutes (the context, cancelled when the
// test ends) and the stack's Vault, Nomad and Consul clients, with
// Vault's nomad and consul engines enabled (enableEngines).
func withEngines(t *testing.T) (ctx context.Context, v, n, c *apiclient.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	enableEngines(t, ctx)
	return ctx, stack.Vault.Client(), stack.Nomad.Client(), stack.Consul.Client()
}

// enableEngines makes sure Vault has the nomad and consul engines at nomad/ and
// consul/, whichever test comes first.
func enableEngines(t *testing.T, ctx context.Context) {
	t.Helper()
	enableNomadEngine(t, ctx)
	if err := stack.EnableConsulEngine(ctx, "consul"); err != nil && !strings.Contains(err.Error(), "already in use") {
		t.Fatal(err)
	}
}

// enableNomadEngine makes sure Vault has the nomad engine at nomad/.
func enableNomadEngine(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := stack.EnableNomadEngine(ctx, "nomad"); err != nil && !strings.Contains(err.Error(), "already in use") {
		t.Fatal(err)
	}
}

// nomadReadPolicy writes policy name at Nomad: read the jobs of
// namespace default.
func nomadReadPolicy(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	must(t, stack.Nomad.Client().Do(ctx, "POST", "/v1/acl/policy/"+name, map[string]any{"Name": name, "Rules": `namespace "default" { policy = "read" }`}, nil))
}

// readPolicies writes policy name at Nomad (nomadReadPolicy) and at
// Consul (read every KV key); a Consul policy of that name made by an
// earlier run is kept.
func readPolicies(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	nomadReadPolicy(t, ctx, name)
	if err := stack.Consul.Client().Do(ctx, "PUT", "/v1/acl/policy", map[string]any{"Name": name, "Rules": `key_prefix "" { policy = "read" }`}, nil); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
}

// orphan makes an orphan of mount/creds/role (mount: "nomad" or
// "consul"; teststack's OrphanCreds: a Vault-made token that no lease
// will ever revoke), checks that Vault lists its lease no more and
// returns the token's accessor.
func orphan(t *testing.T, ctx context.Context, mount, role string) (accessor string) {
	t.Helper()
	access := map[string]any{"address": stack.Nomad.Addr, "token": stack.Nomad.ManagementToken}
	deadAccess := map[string]any{"address": "http://127.0.0.1:1", "token": stack.Nomad.ManagementToken}
	if mount == "consul" {
		access = map[string]any{"address": strings.TrimPrefix(stack.Consul.Addr, "http://"), "scheme": "http", "token": stack.Consul.ManagementToken}
		deadAccess = map[string]any{"address": "127.0.0.1:1", "scheme": "http", "token": stack.Consul.ManagementToken}
	}
	leaseID, data, err := stack.OrphanCreds(ctx, mount, role, access, deadAccess)
	must(t, err)
	var leases struct {
		Data struct{ Keys []string } `json:"data"`
	}
	v := stack.Vault.Client()
	err = v.Do(ctx, "LIST", "/v1/sys/leases/lookup/"+mount+"/creds/"+role, nil, &leases)
	if err == nil && slices.ContainsFunc(leases.Data.Keys, func(k string) bool { return strings.HasSuffix(leaseID, k) }) {
		t.Fatalf("lease %s still in Vault", leaseID)
	}
	for _, k := range []string{"accessor_id", "accessor"} {
		if s, ok := data[k].(string); ok {
			return s
		}
	}
	t.Fatalf("no accessor in %v", data)
	return ""
}

// creds is what Vault's nomad or consul engine answers to a read of
// <mount>/creds/<role>: the lease and the token's accessor (Nomad's
// accessor_id, Consul's accessor).
type creds struct {
	LeaseID string `json:"lease_id"`
	Data    struct {
		AccessorID string `json:"accessor_id"`
		Accessor   string `json:"accessor"`
	} `json:"data"`
}

// liveCreds reads path (<mount>/creds/<role>) at Vault with its root
// token: a token whose lease Vault holds.
func liveCreds(t *testing.T, ctx context.Context, path string) creds {
	t.Helper()
	var c creds
	must(t, stack.Vault.Client().Do(ctx, "GET", "/v1/"+path, nil, &c))
	return c
}

// leastPrivilege returns a Vault client whose token has only the policies
// of docs/broker-vault-policy.hcl and docs/deploy/vault-broker-serve.hcl.
func leastPrivilege(t *testing.T, ctx context.Context) *apiclient.Client {
	t.Helper()
	v := stack.Vault.Client()
	for name, file := range map[string]string{"alilogin-broker": "../../../docs/broker-vault-policy.hcl", "alilogin-broker-serve": "../../../docs/deploy/vault-broker-serve.hcl"} {
		text, err := os.ReadFile(file)
		must(t, err)
		must(t, v.Do(ctx, "PUT", "/v1/sys/policies/acl/"+name, map[string]any{"policy": string(text)}, nil))
	}
	var out struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	must(t, v.Do(ctx, "POST", "/v1/auth/token/create", map[string]any{"policies": []string{"alilogin-broker", "alilogin-broker-serve"}, "no_default_policy": true, "ttl": "10m"}, &out))
	return v.WithToken(secret.New(out.Auth.ClientToken))
}

func TestReapOnRealServers(t *testing.T) {
	ctx, v, n, c := withEngines(t)
	readPolicies(t, ctx, "reap-read")
	for _, role := range []string{"ci", "other", "live"} {
		must(t, v.Do(ctx, "POST", "/v1/nomad/role/"+role, map[string]any{"policies": "reap-read", "type": "client"}, nil))
		must(t, v.Do(ctx, "POST", "/v1/consul/roles/"+role, map[string]any{"consul_policies": []string{"reap-read"}}, nil))
	}

	// Orphans of managed profile ci, and of profile "other" (not managed).
	nomadOrphan := orphan(t, ctx, "nomad", "ci")
	consulOrphan := orphan(t, ctx, "consul", "ci")
	nomadOther := orphan(t, ctx, "nomad", "other")
	consulOther := orphan(t, ctx, "consul", "other")
	// Live tokens of a managed profile: Vault still holds their leases.
	// (Of another profile than the orphans: a lease issued at about an
	// orphan's time, under its role, keeps it, in doubt.)
	liveNomad, liveConsul := liveCreds(t, ctx, "nomad/creds/live"), liveCreds(t, ctx, "consul/creds/live")
	// Hand-made tokens of the same age, some named like Vault's.
	var handNomad, handConsul, mgmtNomad, wrongTime struct{ AccessorID string }
	must(t, n.Do(ctx, "POST", "/v1/acl/token", map[string]any{"Name": "ops-ci-deploy", "Type": "client", "Policies": []string{"reap-read"}}, &handNomad))
	must(t, c.Do(ctx, "PUT", "/v1/acl/token", map[string]any{"Description": "ci token for ops", "Policies": []map[string]string{{"Name": "reap-read"}}}, &handConsul))
	must(t, n.Do(ctx, "POST", "/v1/acl/token", map[string]any{"Name": "vault-ci-deploy-key", "Type": "management"}, &mgmtNomad))
	must(t, n.Do(ctx, "POST", "/v1/acl/token", map[string]any{"Name": "vault-ci-token-1700000000000000000", "Type": "client", "Policies": []string{"reap-read"}}, &wrongTime))

	// What Vault 1.13 named them, checked here rather than assumed.
	var nt struct{ Name string }
	must(t, n.Do(ctx, "GET", "/v1/acl/token/"+nomadOrphan, nil, &nt))
	if !strings.HasPrefix(nt.Name, "vault-ci-token-") {
		t.Fatalf("Vault's nomad engine named its token %q", nt.Name)
	}
	var ct struct{ Description string }
	must(t, c.Do(ctx, "GET", "/v1/acl/token/"+consulOrphan, nil, &ct))
	if !strings.HasPrefix(ct.Description, "Vault ci token ") {
		t.Fatalf("Vault's consul engine described its token %q", ct.Description)
	}

	// Later is past max TTL + grace for every token here: only the lease
	// check tells the orphans from the live ones (as after lowering a
	// profile's max_ttl).
	grants := func(name string) reaper.Profile {
		return reaper.Profile{Name: name, MaxTTL: 8 * time.Hour, Nomad: reaper.Grant{Mount: "nomad", Policies: []string{"reap-read"}}, Consul: reaper.Grant{Mount: "consul", Policies: []string{"reap-read"}}}
	}
	profiles := []reaper.Profile{grants("ci"), grants("live")}
	later := func() time.Time { return time.Now().Add(8*time.Hour + reaper.DefaultGrace + time.Minute) }
	// The reaper's Vault token has only the broker's documented policies.
	r := &reaper.Reaper{Vault: leastPrivilege(t, ctx), Nomad: n, Consul: c, Log: slog.New(slog.NewTextHandler(os.Stderr, nil))}

	// Young: nothing to do.
	res, err := r.Reap(ctx, profiles)
	if err != nil || len(res.Orphans) != 0 || res.Examined["nomad"] < 4 || res.Examined["consul"] < 4 {
		t.Fatalf("young tokens: %+v, %v", res, err)
	}
	// Dry run, later: reported, not deleted.
	r.Now, r.DryRun = later, true
	res, err = r.Reap(ctx, profiles)
	if err != nil || len(res.Orphans) != 2 || len(res.Deleted()) != 0 {
		t.Fatalf("dry run: %+v, %v", res, err)
	}
	// For real.
	r.DryRun = false
	res, err = r.Reap(ctx, profiles)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range res.Orphans {
		got = append(got, o.System+":"+o.Accessor)
	}
	slices.Sort(got)
	want := []string{"consul:" + consulOrphan, "nomad:" + nomadOrphan}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("reaped %v, want %v", got, want)
	}
	gone := func(cl *apiclient.Client, acc string) bool {
		return apiclient.StatusOf(cl.Do(ctx, "GET", "/v1/acl/token/"+acc, nil, nil)) == 404 ||
			apiclient.StatusOf(cl.Do(ctx, "GET", "/v1/acl/token/"+acc, nil, nil)) == 403
	}
	if !gone(n, nomadOrphan) || !gone(c, consulOrphan) {
		t.Error("orphans still there")
	}
	for _, kept := range []struct {
		cl  *apiclient.Client
		acc string
	}{{n, nomadOther}, {c, consulOther}, {n, handNomad.AccessorID}, {c, handConsul.AccessorID}, {n, mgmtNomad.AccessorID},
		{n, wrongTime.AccessorID}, {n, liveNomad.Data.AccessorID}, {c, liveConsul.Data.Accessor}} {
		if err := kept.cl.Do(ctx, "GET", "/v1/acl/token/"+kept.acc, nil, nil); err != nil {
			t.Errorf("%s token %s was touched: %v", kept.cl.Name, kept.acc, err)
		}
	}
	// The management tokens the reaper itself uses survive too.
	must(t, n.Do(ctx, "GET", "/v1/acl/token/self", nil, nil))
	must(t, c.Do(ctx, "GET", "/v1/acl/token/self", nil, nil))
}
