package serve

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/discovery"
	"github.com/alisw/alilogin/internal/policy"
)

// served is the discovery document the broker serves for cfg, as bytes
// and as alilogin reads it.
func served(t *testing.T, cfg *policy.Config) ([]byte, *discovery.Document) {
	t.Helper()
	b, err := renderDiscovery(cfg, Public{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := discovery.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return b, d
}

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
	b, d := served(t, cfg)
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
	b, d := served(t, cfg)
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

// A profile's attended tier reaches alilogin in the discovery document
// with the names the broker gave its objects; other profiles have none.
func TestDiscoveryCarriesAttendedTier(t *testing.T) {
	cfg := &policy.Config{
		SSO:      policy.SSO{Issuer: "https://sso.example", ClientID: "alilogin"},
		Vault:    policy.Vault{Addr: "https://vault.example", JWTMount: "jwt", NomadMount: "nomad", ConsulMount: "consul", OIDCMount: "oidc"},
		Attended: &policy.AttendedSettings{OIDCMount: "oidc", ClientID: "alilogin-elevate"},
		Profiles: []policy.Profile{
			{Name: "ci-user", Roles: []string{"alice-ci-users"}},
			{Name: "ci-admin", Roles: []string{"alice-ci-admins"}, Attended: policy.Attended{NomadManagement: true,
				Window: 10 * time.Minute, Uses: 5, MaxAge: 2 * time.Minute}},
		},
	}
	b, d := served(t, cfg)
	want := &discovery.Attended{OIDCMount: "oidc", Role: "ci-admin", NomadRole: "ci-admin.attended", Window: "10m0s", Uses: 5,
		MaxAge: "2m0s", RedirectPath: "/oidc/callback"}
	for _, p := range d.Profiles {
		switch p.Name {
		case "ci-admin":
			if diff := cmp.Diff(want, p.Attended); diff != "" {
				t.Errorf("attended tier (-want +got):\n%s\n%s", diff, b)
			}
		default:
			if p.Attended != nil {
				t.Errorf("%s has an attended tier: %+v", p.Name, p.Attended)
			}
		}
	}
}
