package plan

import (
	"slices"

	"github.com/alisw/alilogin/internal/policy"
)

func seconds(d interface{ Seconds() float64 }) int64 { return int64(d.Seconds()) }

// Desired returns every object cfg asks for, sorted by kind and name.
func Desired(cfg *policy.Config) []Object {
	var out []Object
	add := func(k Kind, name string, f Fields) {
		o := Object{Kind: k, Name: name, Fields: f}
		if RoleWord(k) != "" {
			o.Mount = RoleMount(cfg.Vault, k)
		}
		out = append(out, o)
	}

	for _, d := range cfg.NomadPolicies {
		add(NomadPolicy, d.Name, Fields{"rules": d.Rules})
	}
	for _, d := range cfg.ConsulPolicies {
		add(ConsulPolicy, d.Name, Fields{"rules": d.Rules})
	}
	for _, d := range cfg.VaultPolicies {
		add(VaultPolicy, d.Name, Fields{"policy": d.Rules})
	}
	if cfg.Vault.ConfigureJWT {
		add(JWTConfig, cfg.Vault.JWTMount, Fields{"oidc_discovery_url": cfg.SSO.Issuer, "bound_issuer": cfg.SSO.Issuer})
	}
	if cfg.Attended != nil && slices.ContainsFunc(cfg.Profiles, func(p policy.Profile) bool { return p.Attended.Enabled() }) {
		add(OIDCConfig, cfg.Vault.OIDCMount, OIDCConfigFields(cfg.SSO, *cfg.Attended)) // attended.go
	}
	if f := NomadLeaseFields(cfg.Profiles); f != nil {
		add(NomadLease, cfg.Vault.NomadMount, f)
	}
	for _, p := range cfg.Profiles {
		add(VaultPolicy, policy.ProfilePolicy(p.Name), Fields{"policy": ProfilePolicyText(cfg.Vault, p), "roles": ProfileRoles(cfg.Vault, p)})
		if len(p.NomadPolicies) > 0 {
			add(NomadRole, p.Name, NomadRoleFields(p))
		}
		if len(p.ConsulPolicies) > 0 {
			add(ConsulRole, p.Name, ConsulRoleFields(p))
		}
		if wantsPKIRole(cfg.Vault, p) { // pki.go
			add(PKIRole, p.Name, PKIRoleFields(p))
		}
		add(JWTRole, p.Name, JWTRoleFields(cfg.SSO, p))
		desiredAttended(cfg, p, add)   // attended.go
		desiredDirect(cfg.SSO, p, add) // direct.go
	}
	for _, r := range cfg.Roles {
		add(Group, policy.Group(r.Name), Fields{"type": "external", "policies": GroupPolicies(r), "alias": r.Name})
	}
	SortObjects(out)
	return out
}

// ProfileRoles are the roles= entries (RoleEntry) of the roles profile p
// asks for, on the mounts of v.
func ProfileRoles(v policy.Vault, p policy.Profile) []string {
	out := []string{RoleEntry(JWTRole, v.JWTMount)}
	if len(p.NomadPolicies) > 0 {
		out = append(out, RoleEntry(NomadRole, v.NomadMount))
	}
	if len(p.ConsulPolicies) > 0 {
		out = append(out, RoleEntry(ConsulRole, v.ConsulMount))
	}
	if wantsPKIRole(v, p) { // pki.go
		out = append(out, RoleEntry(PKIRole, v.PKIMount))
	}
	out = append(out, attendedRoles(v, p)...) // attended.go
	slices.Sort(out)
	return out
}

// NomadLeaseFields are the settings of <nomad mount>/config/lease: the
// largest TTL and the largest max TTL of the profiles that grant Nomad
// tokens (an attended tier's window counts as both); nil when none does. Vault's nomad engine has one lease setting
// per mount (its roles have none) and, without it, gives every token the
// mount's default lease (768 h unless tuned), which Vault's revocation of
// the parent Vault token then cuts short. With it, a Nomad token's lease
// says how long the token really lives, and is renewed like Consul's.
func NomadLeaseFields(profiles []policy.Profile) Fields {
	var ttl, maxTTL int64
	found := false
	for _, p := range profiles {
		if p.Attended.Enabled() && p.Attended.GrantsNomad() {
			found = true
			ttl, maxTTL = max(ttl, seconds(p.Attended.Window)), max(maxTTL, seconds(p.Attended.Window))
		}
		if len(p.NomadPolicies) == 0 {
			continue
		}
		found = true
		ttl, maxTTL = max(ttl, seconds(p.TTL)), max(maxTTL, seconds(p.MaxTTL))
	}
	if !found {
		return nil
	}
	return Fields{"ttl": ttl, "max_ttl": maxTTL}
}

// NomadRoleFields are the settings of the Vault nomad role of profile p
// (RoleFieldNames): client tokens, local to the region.
func NomadRoleFields(p policy.Profile) Fields {
	return Fields{"policies": sorted(p.NomadPolicies), "type": "client", "global": false}
}

// ConsulRoleFields are the settings of the Vault consul role of profile p
// (RoleFieldNames): the profile's ACL policies and nothing else (no ACL
// roles, service or node identities, not local, client tokens, default
// namespace and partition), written explicitly so that a hand edit of any
// of them is drift.
func ConsulRoleFields(p policy.Profile) Fields {
	return Fields{
		"consul_policies":    sorted(p.ConsulPolicies),
		"ttl":                seconds(p.TTL),
		"max_ttl":            seconds(p.MaxTTL),
		"consul_roles":       []string{},
		"service_identities": []string{},
		"node_identities":    []string{},
		"local":              false,
		"token_type":         "client",
		"consul_namespace":   "",
		"partition":          "",
	}
}

// JWTRoleFields are the settings of the Vault JWT role of profile p
// (RoleFieldNames). The token settings the files do not set are written
// at Vault's defaults (no period, no explicit max TTL, no use limit, no
// CIDR binding, the default policy attached, the default token type), and
// so are the claim settings (no claim mappings, no bound subject, Vault's
// default leeways, no verbose logging): a hand edit that widens what the
// role hands out is drift.
func JWTRoleFields(sso policy.SSO, p policy.Profile) Fields {
	f := Fields{
		"role_type":         "jwt",
		"bound_audiences":   []string{sso.ClientID},
		"bound_claims":      map[string][]string{sso.RolesClaim: sorted(p.Roles)},
		"bound_claims_type": "string",
		"user_claim":        sso.UserClaim,
		"groups_claim":      sso.RolesClaim,
		"token_policies":    JWTRolePolicies(p),
		"token_ttl":         seconds(p.TTL),
		"token_max_ttl":     seconds(p.MaxTTL),
		// Vault reads a user_claim that starts with "/" as a JSON pointer
		// only when told to.
		"user_claim_json_pointer": policy.IsPointer(sso.UserClaim),

		"token_period":            int64(0),
		"token_type":              "default",
		"token_explicit_max_ttl":  int64(0),
		"token_num_uses":          int64(0),
		"token_bound_cidrs":       []string{},
		"token_no_default_policy": false,
		"claim_mappings":          []string{}, // "claim=metadata key", sorted
		"bound_subject":           "",
		"clock_skew_leeway":       int64(0),
		"expiration_leeway":       int64(0),
		"not_before_leeway":       int64(0),
		"verbose_oidc_logging":    false,
	}
	return f
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}
