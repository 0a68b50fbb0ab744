package plan

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/policy"
)

// TestProfileRulesConstrainLeaseIDs: every rule of a generated profile
// policy on a lease endpoint is in the path form, on the profile's own
// creds only ("ci/*", which "ci-admin/..." does not match), and admits
// no lease_id in the body: revocation with no parameter at all, renewal
// with increment only. No rule is on the body forms sys/leases/renew and
// sys/renew (Vault's default policy is to deny lease_id there for the
// broker's engines, which would refuse the profile's body renewals too);
// a profile with no leases of the broker's engines gets no lease rule.
func TestProfileRulesConstrainLeaseIDs(t *testing.T) {
	v := policy.Vault{JWTMount: "jwt", NomadMount: "alice/nomad", ConsulMount: "consul", PKIMount: "pki"}
	profiles := []policy.Profile{
		{Name: "ci", NomadPolicies: []string{"n"}, ConsulPolicies: []string{"c"}},
		{Name: "nomad-only", NomadPolicies: []string{"n"}, ClientCert: policy.ClientCert{TTL: time.Hour}},
		{Name: "vault-only"},
	}
	for _, p := range profiles {
		t.Run(p.Name, func(t *testing.T) {
			var own []string
			if len(p.NomadPolicies) > 0 {
				own = append(own, "alice/nomad/creds/"+p.Name+"/*")
			}
			if len(p.ConsulPolicies) > 0 {
				own = append(own, "consul/creds/"+p.Name+"/*")
			}
			var revokes, renews []string
			for _, r := range ProfileRules(v, p) {
				switch {
				case strings.HasPrefix(r.Path, "sys/leases/revoke/"):
					if len(r.Allowed) != 0 || len(r.Denied) != 1 || r.Denied[0].Name != "*" || len(r.Denied[0].Values) != 0 {
						t.Errorf("%s: allowed %v, denied %v; want every parameter denied", r.Path, r.Allowed, r.Denied)
					}
					revokes = append(revokes, strings.TrimPrefix(r.Path, "sys/leases/revoke/"))
				case strings.HasPrefix(r.Path, "sys/leases/renew/"):
					if len(r.Denied) != 0 || len(r.Allowed) != 1 || r.Allowed[0].Name != "increment" {
						t.Errorf("%s: allowed %v, denied %v; want increment only", r.Path, r.Allowed, r.Denied)
					}
					renews = append(renews, strings.TrimPrefix(r.Path, "sys/leases/renew/"))
				case strings.HasPrefix(r.Path, "sys/"):
					t.Errorf("unexpected rule on %s", r.Path)
				}
			}
			if !slices.Equal(revokes, own) || !slices.Equal(renews, own) {
				t.Errorf("revocation rules on %q, renewal rules on %q; want both on %q", revokes, renews, own)
			}
		})
	}
}

// TestProfilePolicyTextRendersParameters: the rules render as Vault's
// policy language, "*" quoted.
func TestProfilePolicyTextRendersParameters(t *testing.T) {
	r := PolicyRule{Path: "sys/leases/revoke/nomad/creds/p/*", Capabilities: []string{"update"}, Denied: []Param{{Name: "*"}}}
	want := "path \"sys/leases/revoke/nomad/creds/p/*\" {\n  capabilities = [\"update\"]\n  denied_parameters = {\n    \"*\" = []\n  }\n}\n"
	if got := r.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
