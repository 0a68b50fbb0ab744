package e2e

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/reaper"
)

// Vault's nomad and consul engines name their tokens
// "vault-<role>-<display>-<nanos>" / "Vault <role> <display> <nanos>",
// without the mount. The reaper looks for a token's lease only under the
// mount the broker is configured with (<nomad_mount>/creds/, and
// <consul_mount>/creds/). A token that another nomad (consul) secrets
// engine of the same Vault made, for a role that has a managed profile's
// name, is taken for an orphan and deleted although Vault still holds its
// lease: a second engine mounted for another purpose (a CI mount, a
// migration to a new mount path, an old mount kept while clients move)
// loses its live tokens.
//
// Must: a token whose lease Vault still holds, under any mount, is kept
// (e.g. look under every mount of type nomad/consul listed by sys/mounts,
// or refuse to reap when another engine of that type exists).
func TestReaperSparesTokenLeasedUnderAnotherMount(t *testing.T) {
	ctx, v, n, c := withEngines(t)
	must(t, stack.EnableNomadEngine(ctx, "nomad-other"))
	must(t, stack.EnableConsulEngine(ctx, "consul-other"))
	defer func() {
		// Disabling an engine revokes its leases; the other tests' tokens
		// named for role ci are not kept because of these engines.
		_ = v.Do(context.Background(), "DELETE", "/v1/sys/mounts/nomad-other", nil, nil)
		_ = v.Do(context.Background(), "DELETE", "/v1/sys/mounts/consul-other", nil, nil)
	}()
	readPolicies(t, ctx, "mnt-read")
	// The other engines have a role named like the managed profile.
	must(t, v.Do(ctx, "POST", "/v1/nomad-other/role/ci", map[string]any{"policies": "mnt-read", "type": "client"}, nil))
	must(t, v.Do(ctx, "POST", "/v1/consul-other/roles/ci", map[string]any{"consul_policies": []string{"mnt-read"}}, nil))

	// Live tokens: Vault holds their leases (under the other mounts).
	nomadLive, consulLive := liveCreds(t, ctx, "nomad-other/creds/ci"), liveCreds(t, ctx, "consul-other/creds/ci")
	if !strings.HasPrefix(nomadLive.LeaseID, "nomad-other/creds/ci/") || !strings.HasPrefix(consulLive.LeaseID, "consul-other/creds/ci/") {
		t.Fatalf("leases %q %q", nomadLive.LeaseID, consulLive.LeaseID)
	}
	for _, p := range []string{"/v1/sys/leases/lookup"} {
		must(t, v.Do(ctx, "PUT", p, map[string]string{"lease_id": nomadLive.LeaseID}, nil))
	}
	run := func(what string) {
		t.Helper()
		// The managed profile ci: the broker's engines are at nomad/ and
		// consul/. Later is past max TTL + grace (as after lowering
		// max_ttl, or for a long-lived client of the other engine renewing
		// its lease). With only the broker's documented Vault policies.
		profiles := []reaper.Profile{{Name: "ci", MaxTTL: time.Hour,
			Nomad: reaper.Grant{Mount: "nomad", Policies: []string{"mnt-read"}}, Consul: reaper.Grant{Mount: "consul", Policies: []string{"mnt-read"}}}}
		r := &reaper.Reaper{Vault: leastPrivilege(t, ctx), Nomad: n, Consul: c, DryRun: true, Log: slog.New(slog.NewTextHandler(os.Stderr, nil)),
			Now: func() time.Time { return time.Now().Add(time.Hour + reaper.DefaultGrace + time.Minute) }}
		res, err := r.Reap(ctx, profiles)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range res.Orphans {
			if o.Accessor == nomadLive.Data.AccessorID || o.Accessor == consulLive.Data.Accessor {
				t.Errorf("%s: %s token %s (%s) taken for an orphan although Vault holds its lease: %s", what, o.System, o.Accessor, o.Name, o.Why)
			}
		}
	}
	// Kept: the other engines' role ci may have made them.
	run("with the roles")
	// Kept by their leases alone once the roles are gone (a role deleted
	// leaves its leases, and their tokens, alive).
	must(t, v.Do(ctx, "DELETE", "/v1/nomad-other/role/ci", nil, nil))
	must(t, v.Do(ctx, "DELETE", "/v1/consul-other/roles/ci", nil, nil))
	run("roles deleted, leases left")
}

// a label "vault-ci-x-<display>-<nanos>" has Vault's exact
// format both for role "ci-x" and for role "ci" (display name
// "x-<display>"). The reaper only treats the token as possibly another
// role's when that role still has leases (live lists the role folders
// under sys/leases/lookup/<mount>/creds/). A token of a hand-made, not
// managed Vault role ci-x whose lease is gone (its holder force-revoked the
// lease, the usual way to keep a token past Vault) — with ci-x holding no
// other lease — is deleted as an orphan of the managed profile ci, although
// Vault did not make it for a managed profile.
//
// Must: a label that also fits another role that exists on the mount
// (LIST <mount>/role or <mount>/roles) is ambiguous and kept.
func TestReaperSparesOrphanOfUnmanagedRoleExtendingProfileName(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	v, n, c := stack.Vault.Client(), stack.Nomad.Client(), stack.Consul.Client()
	enableNomadEngine(t, ctx)
	nomadReadPolicy(t, ctx, "pfx-read")
	// ci-x: made by hand on the broker's mount, not a managed profile.
	must(t, v.Do(ctx, "POST", "/v1/nomad/role/ci-x", map[string]any{"policies": "pfx-read", "type": "client"}, nil))
	acc := orphan(t, ctx, "nomad", "ci-x")
	defer func() { _ = n.Do(context.Background(), "DELETE", "/v1/acl/token/"+acc, nil, nil) }()

	profiles := []reaper.Profile{{Name: "ci", MaxTTL: time.Hour, Nomad: reaper.Grant{Mount: "nomad", Policies: []string{"pfx-read"}}}}
	r := &reaper.Reaper{Vault: v, Nomad: n, Consul: c, DryRun: true, Log: slog.New(slog.NewTextHandler(os.Stderr, nil)),
		Now: func() time.Time { return time.Now().Add(time.Hour + reaper.DefaultGrace + time.Minute) }}
	res, err := r.Reap(ctx, profiles)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Orphans {
		if o.Accessor == acc {
			t.Errorf("token %s of the unmanaged role ci-x taken for an orphan of profile %s: %s", o.Name, o.Profile, o.Why)
		}
	}
}

// the lease
// check reads a 404 on LIST sys/leases/lookup/<mount>/creds/ as "Vault has
// no lease", without checking that <mount> is a nomad/consul engine at all.
// A nomad_mount typo or a mount renamed in broker.hcl before the engine is
// enabled there makes apply fail ("no nomad secrets engine at ..."), yet
// serve still reaps after the failed run, and every Vault-made token of the
// profiles past max TTL + grace is deleted although its lease is alive
// under the real mount.
func TestReaperRefusesWhenMountIsNoEngine(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	v, n := stack.Vault.Client(), stack.Nomad.Client()
	enableNomadEngine(t, ctx)
	nomadReadPolicy(t, ctx, "typo-read")
	must(t, v.Do(ctx, "POST", "/v1/nomad/role/typo", map[string]any{"policies": "typo-read", "type": "client"}, nil))
	live := liveCreds(t, ctx, "nomad/creds/typo")
	defer func() { _ = v.Do(context.Background(), "PUT", "/v1/sys/leases/revoke/"+live.LeaseID, nil, nil) }()

	profiles := []reaper.Profile{{Name: "typo", MaxTTL: time.Hour, Nomad: reaper.Grant{Mount: "nomda", Policies: []string{"typo-read"}}}}
	r := &reaper.Reaper{Vault: v, Nomad: n, DryRun: true, Log: slog.New(slog.NewTextHandler(os.Stderr, nil)),
		Now: func() time.Time { return time.Now().Add(time.Hour + reaper.DefaultGrace + time.Minute) }}
	res, err := r.Reap(ctx, profiles)
	if err == nil || !strings.Contains(err.Error(), "no nomad secrets engine at nomda/") {
		t.Errorf("reaping with nomad_mount nomda: err = %v, want one naming the missing engine", err)
	}
	for _, o := range res.Orphans {
		if o.Accessor == live.Data.AccessorID {
			t.Errorf("live token %s (lease %s) taken for an orphan because nomad_mount %q is no engine (err %v): %s", o.Name, live.LeaseID, "nomda", err, o.Why)
		}
	}
}
