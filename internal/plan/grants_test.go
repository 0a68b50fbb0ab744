package plan

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/policy"
)

// TestGrants: what explain says a user gets, per profile they may use.
func TestGrants(t *testing.T) {
	cfg := alice()
	cfg.Roles = append(cfg.Roles, policy.Role{Name: "b", VaultPolicies: []string{"w", "v"}})
	tests := []struct {
		name  string
		roles []string
		want  []Grant
	}{
		{"no profile", []string{"nobody"}, []Grant{}},
		{"one role, two profiles", []string{"a"}, []Grant{
			{Profile: cfg.Profiles[0], Via: []string{"a"}, VaultPolicies: []string{"alilogin-profile-ci", "default", "v"}, NomadPolicies: []string{"n"}, ConsulPolicies: []string{"c"}},
			{Profile: cfg.Profiles[1], Via: []string{"a"}, VaultPolicies: []string{"alilogin-profile-vault-only", "default", "v"}, NomadPolicies: []string{}, ConsulPolicies: []string{}},
		}},
		{"both roles: the groups of both", []string{"a", "b"}, []Grant{
			{Profile: cfg.Profiles[0], Via: []string{"b", "a"}, VaultPolicies: []string{"alilogin-profile-ci", "default", "v", "w"}, NomadPolicies: []string{"n"}, ConsulPolicies: []string{"c"}},
			{Profile: cfg.Profiles[1], Via: []string{"a"}, VaultPolicies: []string{"alilogin-profile-vault-only", "default", "v", "w"}, NomadPolicies: []string{}, ConsulPolicies: []string{}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, Grants(cfg, tc.roles)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestTokenPoliciesAreWhatDesiredWrites: the policies TokenPolicies names
// are those of the objects Desired writes for the login: the JWT role's
// token policies, Vault's default policy, and the policies of the
// identity groups whose alias is one of the user's roles.
func TestTokenPoliciesAreWhatDesiredWrites(t *testing.T) {
	cfg := alice()
	cfg.Roles = append(cfg.Roles, policy.Role{Name: "b", VaultPolicies: []string{"w"}})
	desired := map[Key]Fields{}
	for _, o := range Desired(cfg) {
		desired[o.Key()] = o.Fields
	}
	for _, roles := range [][]string{{"a"}, {"b"}, {"a", "b"}} {
		for _, p := range cfg.ProfilesFor(roles) {
			want := append(slices.Clone(desired[Key{JWTRole, p.Name}]["token_policies"].([]string)), "default")
			for _, r := range roles {
				if f, ok := desired[Key{Group, policy.Group(r)}]; ok && f["alias"] == r {
					want = append(want, f["policies"].([]string)...)
				}
			}
			if d := cmp.Diff(sorted(want), TokenPolicies(cfg, p, roles)); d != "" {
				t.Errorf("roles %v, profile %s (-desired +TokenPolicies):\n%s", roles, p.Name, d)
			}
		}
	}
}
