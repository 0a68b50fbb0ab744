package e2e

import (
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/reaper"
)

// TestReaperSparesTokensThatExpireByThemselves: a Nomad or Consul token
// with an expiry of its own (as the tokens of a direct, JWT login have)
// is never reaped, even labelled exactly as Vault labels its tokens, for
// a managed profile, with no lease in Vault and past the profile's max
// TTL: it dies by itself.
func TestReaperSparesTokensThatExpireByThemselves(t *testing.T) {
	ctx, v, n, c := withEngines(t)
	readPolicies(t, ctx, "reap-expiring")
	must(t, v.Do(ctx, "POST", "/v1/nomad/role/expiring", map[string]any{"policies": "reap-expiring", "type": "client"}, nil))
	must(t, v.Do(ctx, "POST", "/v1/consul/roles/expiring", map[string]any{"consul_policies": []string{"reap-expiring"}}, nil))

	nanos := strconv.FormatInt(time.Now().UnixNano(), 10)
	var nt, ct struct{ AccessorID string }
	must(t, n.Do(ctx, "POST", "/v1/acl/token", map[string]any{"Name": "vault-expiring-token-" + nanos, "Type": "client",
		"Policies": []string{"reap-expiring"}, "ExpirationTTL": "1h"}, &nt))
	must(t, c.Do(ctx, "PUT", "/v1/acl/token", map[string]any{"Description": "Vault expiring token " + nanos,
		"Policies": []map[string]string{{"Name": "reap-expiring"}}, "ExpirationTTL": "1h"}, &ct))

	p := reaper.Profile{Name: "expiring", MaxTTL: time.Minute,
		Nomad:  reaper.Grant{Mount: "nomad", Policies: []string{"reap-expiring"}},
		Consul: reaper.Grant{Mount: "consul", Policies: []string{"reap-expiring"}}}
	r := &reaper.Reaper{Vault: leastPrivilege(t, ctx), Nomad: n, Consul: c, Log: slog.New(slog.NewTextHandler(os.Stderr, nil)),
		Now: func() time.Time { return time.Now().Add(time.Minute + reaper.DefaultGrace + time.Minute) }}
	res, err := r.Reap(ctx, []reaper.Profile{p})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Orphans {
		if o.Accessor == nt.AccessorID || o.Accessor == ct.AccessorID {
			t.Errorf("reaped %s token %s, which expires by itself", o.System, o.Accessor)
		}
	}
	must(t, n.Do(ctx, "GET", "/v1/acl/token/"+nt.AccessorID, nil, nil))
	must(t, c.Do(ctx, "GET", "/v1/acl/token/"+ct.AccessorID, nil, nil))
}
