package serve

import (
	"testing"

	"github.com/google/go-cmp/cmp"

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

// The discovery document names each profile's direct login methods, as
// the broker makes them, and its mode; a profile without direct login,
// or without a server's policies, names none there.
func TestDiscoveryNamesDirectLoginMethods(t *testing.T) {
	cfg := &policy.Config{
		SSO:         policy.SSO{Issuer: "https://sso.example", ClientID: "alilogin"},
		Vault:       policy.Vault{Addr: "https://vault.example", JWTMount: "jwt", NomadMount: "nomad", ConsulMount: "consul"},
		DirectLogin: policy.DirectLogin{Enabled: true},
		Profiles: []policy.Profile{
			{Name: "both", Roles: []string{"r"}, NomadPolicies: []string{"n"}, ConsulPolicies: []string{"c"}, DirectLogin: policy.DirectFallback},
			{Name: "consul-only", Roles: []string{"r"}, ConsulPolicies: []string{"c"}, DirectLogin: policy.DirectAlways},
			{Name: "off", Roles: []string{"r"}, NomadPolicies: []string{"n"}, DirectLogin: policy.DirectOff},
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
	got := map[string]*discovery.Direct{}
	for _, p := range d.Profiles {
		got[p.Name] = p.Direct
	}
	want := map[string]*discovery.Direct{
		"both":        {Mode: "fallback", NomadAuthMethod: "alilogin-both", ConsulAuthMethod: "alilogin-both"},
		"consul-only": {Mode: "always", ConsulAuthMethod: "alilogin-consul-only"},
		"off":         nil,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("direct login by profile (-want +got):\n%s\n%s", d, b)
	}
}
