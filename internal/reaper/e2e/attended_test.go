package e2e

import (
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/reaper"
)

// TestReaperDeletesLostAttendedManagementToken: a Nomad management token
// that Vault's nomad engine made for an attended tier's role
// (<profile>.attended, type management) and whose lease Vault lost is
// deleted once older than the window plus the grace. Kept: a live one
// (Vault holds its lease), a lost management token of an everyday
// profile's role (the reaper spares management tokens but an attended
// tier's), a hand-made management token named like Vault's, and the
// reaper's own token.
func TestReaperDeletesLostAttendedManagementToken(t *testing.T) {
	ctx, v, n, _ := withEngines(t)
	nomadReadPolicy(t, ctx, "att-read")
	for _, role := range []string{"ops.attended", "opslive.attended", "ops"} {
		must(t, v.Do(ctx, "POST", "/v1/nomad/role/"+role, map[string]any{"type": "management"}, nil))
	}

	lost := orphan(t, ctx, "nomad", "ops.attended")
	// A management token of the everyday role ops (made type management
	// by hand): the everyday profile grants no management token.
	lostEveryday := orphan(t, ctx, "nomad", "ops")
	live := liveCreds(t, ctx, "nomad/creds/opslive.attended")
	var hand struct{ AccessorID string }
	must(t, n.Do(ctx, "POST", "/v1/acl/token", map[string]any{"Name": "vault-ops.attended-deploy-key", "Type": "management"}, &hand))

	var nt struct{ Name, Type string }
	must(t, n.Do(ctx, "GET", "/v1/acl/token/"+lost, nil, &nt))
	if !strings.HasPrefix(nt.Name, "vault-ops.attended-token-") || nt.Type != "management" {
		t.Fatalf("Vault's nomad engine made %q of type %s", nt.Name, nt.Type)
	}

	// The profiles as the broker's configuration gives them to the reaper.
	tier := policy.Attended{NomadManagement: true, Window: 10 * time.Minute, MaxAge: 2 * time.Minute}
	cfg := &policy.Config{Vault: policy.Vault{NomadMount: "nomad", ConsulMount: "consul", OIDCMount: "oidc"},
		Attended: &policy.AttendedSettings{OIDCMount: "oidc", ClientID: "elevate"},
		Profiles: []policy.Profile{
			{Name: "ops", MaxTTL: time.Hour, NomadPolicies: []string{"att-read"}, Attended: tier},
			{Name: "opslive", MaxTTL: time.Hour, NomadPolicies: []string{"att-read"}, Attended: tier},
		}}
	profiles := reaper.ProfilesOf(cfg)
	r := &reaper.Reaper{Vault: leastPrivilege(t, ctx), Nomad: n, Log: slog.New(slog.NewTextHandler(os.Stderr, nil))}

	res, err := r.Reap(ctx, profiles)
	if err != nil || len(res.Orphans) != 0 {
		t.Fatalf("young tokens: %+v, %v", res, err)
	}
	// Past the window plus the grace, before the everyday max TTL's end
	// would matter (it is past that too).
	r.Now = func() time.Time { return time.Now().Add(time.Hour + reaper.DefaultGrace + time.Minute) }
	res, err = r.Reap(ctx, profiles)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range res.Orphans {
		got = append(got, o.Accessor+" "+o.Profile)
	}
	if want := []string{lost + " ops.attended"}; !slices.Equal(got, want) {
		t.Fatalf("reaped %v, want %v", got, want)
	}
	if err := n.Do(ctx, "GET", "/v1/acl/token/"+lost, nil, nil); err == nil {
		t.Error("the lost attended management token is still there")
	}
	for _, kept := range []string{lostEveryday, live.Data.AccessorID, hand.AccessorID} {
		if err := n.Do(ctx, "GET", "/v1/acl/token/"+kept, nil, nil); err != nil {
			t.Errorf("token %s was touched: %v", kept, err)
		}
	}
	must(t, n.Do(ctx, "GET", "/v1/acl/token/self", nil, nil))
}
