package plan

import (
	"slices"

	"github.com/alisw/alilogin/internal/policy"
)

// Grant is what a user with some SSO roles gets by logging in with one
// profile: `broker explain` prints it, and the objects Desired writes
// give exactly it (the JWT role's token policies, the identity groups'
// policies, the nomad and consul roles' ACL policies).
type Grant struct {
	Profile policy.Profile
	// Via are the user's roles that the profile allows, in the
	// profile's order.
	Via []string
	// VaultPolicies are the policies of the user's Vault token
	// (TokenPolicies).
	VaultPolicies []string
	// NomadPolicies and ConsulPolicies are those of the Nomad and Consul
	// tokens minted with it (never nil).
	NomadPolicies, ConsulPolicies []string
}

// Grants lists, for a user with roles, every profile they may log in with
// (policy.Config.ProfilesFor) and what it grants.
func Grants(cfg *policy.Config, roles []string) []Grant {
	out := []Grant{}
	for _, p := range cfg.ProfilesFor(roles) {
		var via []string
		for _, r := range p.Roles {
			if slices.Contains(roles, r) {
				via = append(via, r)
			}
		}
		out = append(out, Grant{Profile: p, Via: via, VaultPolicies: TokenPolicies(cfg, p, roles),
			NomadPolicies: nonNil(p.NomadPolicies), ConsulPolicies: nonNil(p.ConsulPolicies)})
	}
	return out
}

// TokenPolicies are the policies of the Vault token that a user with
// roles gets by logging in with profile p, sorted: those of p's JWT role
// (JWTRolePolicies), Vault's default policy (the JWT role does not set
// token_no_default_policy), and those of the identity groups of the
// user's roles (GroupPolicies).
func TokenPolicies(cfg *policy.Config, p policy.Profile, roles []string) []string {
	out := append(JWTRolePolicies(p), "default")
	for _, r := range cfg.Roles {
		if slices.Contains(roles, r.Name) {
			out = append(out, GroupPolicies(r)...)
		}
	}
	return sorted(out)
}

// JWTRolePolicies are the token policies of the JWT role of profile p,
// sorted: the profile's Vault policies and its generated policy.
func JWTRolePolicies(p policy.Profile) []string {
	return sorted(append(slices.Clone(p.VaultPolicies), policy.ProfilePolicy(p.Name)))
}

// GroupPolicies are the policies of the identity group of role block r,
// sorted.
func GroupPolicies(r policy.Role) []string { return sorted(r.VaultPolicies) }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
