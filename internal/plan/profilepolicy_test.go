package plan

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/policy"
)

// TestProfileRulesConstrainLeaseIDs: every rule of a generated profile
// policy on a lease endpoint that reads lease_id from the body admits only
// the profile's own leases: revocation in the path form with no
// parameter at all, renewal (the body form, including Vault's old
// sys/renew) with lease_id limited to globs of the profile's own creds
// ("ci/*", which "ci-admin/..." does not match). A profile with no leases
// of the broker's engines gets the renewal rules too, with no lease_id
// admitted, since they narrow Vault's default policy.
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
			renewals := 0
			for _, r := range ProfileRules(v, p) {
				switch {
				case strings.HasPrefix(r.Path, "sys/leases/revoke/"):
					if len(r.Allowed) != 0 || len(r.Denied) != 1 || r.Denied[0].Name != "*" || len(r.Denied[0].Values) != 0 {
						t.Errorf("%s: allowed %v, denied %v; want every parameter denied", r.Path, r.Allowed, r.Denied)
					}
					if !slices.ContainsFunc(own, func(g string) bool { return r.Path == "sys/leases/revoke/"+g }) {
						t.Errorf("revocation rule %s is not on the profile's own creds %v", r.Path, own)
					}
				case r.Path == "sys/leases/renew" || r.Path == "sys/renew":
					renewals++
					var ids []string
					hasID := false
					for _, a := range r.Allowed {
						switch a.Name {
						case "lease_id":
							ids, hasID = a.Values, true
						case "increment":
						default:
							t.Errorf("%s admits parameter %q", r.Path, a.Name)
						}
					}
					// lease_id with no values would admit any.
					if hasID != (len(own) > 0) || !slices.Equal(ids, own) {
						t.Errorf("%s admits lease ids %q; want %q", r.Path, ids, own)
					}
				case strings.HasPrefix(r.Path, "sys/"):
					t.Errorf("unexpected rule on %s", r.Path)
				}
			}
			if renewals != 2 {
				t.Errorf("%d renewal rules, want sys/leases/renew and sys/renew", renewals)
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
