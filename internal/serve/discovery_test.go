package serve

import (
	"testing"

	"github.com/alisw/alilogin/internal/discovery"
	"github.com/alisw/alilogin/internal/policy"
)

// The admin's agent { read_only = true } reaches users in the served
// discovery document, and only for its profile.
func TestDiscoveryCarriesAgentReadOnly(t *testing.T) {
	cfg := &policy.Config{
		SSO:   policy.SSO{Issuer: "https://sso.example", ClientID: "alilogin"},
		Vault: policy.Vault{Addr: "https://vault.example", JWTMount: "jwt", NomadMount: "nomad", ConsulMount: "consul"},
		Profiles: []policy.Profile{
			{Name: "ci-user", Roles: []string{"alice-ci-users"}, Agent: policy.Agent{ReadOnly: true}},
			{Name: "ci-admin", Roles: []string{"alice-ci-admins"}},
		},
	}
	b, err := renderDiscovery(cfg, Public{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := discovery.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, p := range d.Profiles {
		got[p.Name] = p.Agent.ReadOnly
	}
	if !got["ci-user"] || got["ci-admin"] || len(got) != 2 {
		t.Errorf("agent read_only by profile: %v\n%s", got, b)
	}
}
