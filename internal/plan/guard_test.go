package plan

import (
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/policy"
)

// Review finding (low): the guard's denominator counts the JWT auth config
// (and, while still desired, the nomad lease config), which are always
// "managed" and can never be deleted. With configure_jwt_auth = true, a
// folder that lost one of two profiles and its policy files deletes 7 of
// the 13 objects the broker could delete (54%, and every nomad role,
// consul role, Nomad and Consul policy), yet the guard counts 14 managed
// objects and lets `apply --prune` and `serve --prune` carry it out.
//
// Must: only objects a plan can delete count ("more than half of the
// managed objects").
func TestGuardNotDilutedByConfigObjects(t *testing.T) {
	doc := func(n string) policy.Document { return policy.Document{Name: n, Rules: "x"} }
	base := func() *policy.Config {
		return &policy.Config{
			SSO:           policy.SSO{Issuer: "https://sso", ClientID: "c", RolesClaim: "cern_roles", UserClaim: "cern_upn"},
			Vault:         policy.Vault{JWTMount: "jwt", NomadMount: "nomad", ConsulMount: "consul", ConfigureJWT: true},
			Profiles:      []policy.Profile{{Name: "a", Roles: []string{"ra"}, VaultPolicies: []string{"va"}, TTL: time.Hour, MaxTTL: time.Hour}},
			Roles:         []policy.Role{{Name: "rg", VaultPolicies: []string{"vg"}}},
			VaultPolicies: []policy.Document{doc("va"), doc("vg"), doc("vx")},
		}
	}
	full := base()
	full.Profiles = append(full.Profiles, policy.Profile{Name: "b", Roles: []string{"rb"}, VaultPolicies: []string{"vb"},
		NomadPolicies: []string{"nb"}, ConsulPolicies: []string{"cb"}, TTL: time.Hour, MaxTTL: time.Hour})
	full.VaultPolicies = append(full.VaultPolicies, doc("vb"))
	full.NomadPolicies = []policy.Document{doc("nb")}
	full.ConsulPolicies = []policy.Document{doc("cb")}

	// Live: what applying full made, as apply reads it when the nomad lease
	// config is no longer desired (it is then not read).
	var live []Object
	deletable := 0
	for _, o := range Desired(full) {
		if o.Kind == NomadLease {
			continue
		}
		o.Managed = true
		live = append(live, o)
		if o.Kind != JWTConfig {
			deletable++
		}
	}
	p := Diff(Desired(base()), live, true)
	g := p.Guard()
	if g.Deletes != 7 || deletable != 13 {
		t.Fatalf("setup: %d deletes of %d deletable (guard %s)", g.Deletes, deletable, g)
	}
	if !g.Mass {
		t.Errorf("deleting %d of the %d deletable managed objects is not a mass delete: %s", g.Deletes, deletable, g)
	}
}
