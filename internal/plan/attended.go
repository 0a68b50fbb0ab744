package plan

import (
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/policy"
)

// Attended tiers (issue 23). For a profile P with an attended block the
// broker makes, besides P's own objects:
//
//	vault oidc role P            auth/<oidc mount>/role/P: role_type oidc, max_age,
//	                             the profile's role binding (+ acr), token TTL = window
//	vault nomad attended role    <nomad mount>/role/P.attended (type management
//	                             when nomad_management)
//	vault consul attended role   <consul mount>/roles/P.attended
//	vault policy                 alilogin-attended-P: reads those creds
//	vault oidc auth config       auth/<oidc mount>/config (the mount enabled when absent)
//
// The roles are recorded like P's others in the roles= record of
// alilogin-profile-P (oidc@<mount>, nomad-attended@<mount>,
// consul-attended@<mount>): the same ownership rules.

// RedirectPath is the path of the loopback callback the OIDC roles allow:
// alilogin elevate listens on http://127.0.0.1:<any port><RedirectPath>
// (Vault's validRedirect ignores the port of a loopback URI, RFC 8252
// §7.3).
const RedirectPath = "/oidc/callback"

// RedirectURI is the allowed_redirect_uris entry of every OIDC role.
const RedirectURI = "http://127.0.0.1" + RedirectPath

// SecretPlaceholder stands for the OIDC client secret in the fields of
// the OIDC auth config: plans show it, apply writes the real secret in
// its place, and a live config reads back with it (Vault never returns
// the secret, so a changed secret is no drift: docs/admin-guide.md says
// how it is rotated).
const SecretPlaceholder = "(secret)"

// RoleName is the name of the role of kind k of profile p: the profile's
// name, or for the attended nomad and consul roles
// policy.AttendedRole(p), which no profile's own role can have.
func RoleName(k Kind, profile string) string {
	switch k {
	case AttendedNomadRole, AttendedConsulRole:
		return policy.AttendedRole(profile)
	}
	return profile
}

// ProfileOfRole is the profile whose role of kind k is called name (the
// inverse of RoleName); false when no profile's role has that name.
func ProfileOfRole(k Kind, name string) (string, bool) {
	switch k {
	case AttendedNomadRole, AttendedConsulRole:
		return policy.ProfileOfAttendedRole(name)
	}
	return name, name != ""
}

// attendedRoles are the roles= entries of p's attended tier on v's mounts.
func attendedRoles(v policy.Vault, p policy.Profile) []string {
	a := p.Attended
	if !a.Enabled() {
		return nil
	}
	out := []string{RoleEntry(OIDCRole, v.OIDCMount)}
	if a.GrantsNomad() {
		out = append(out, RoleEntry(AttendedNomadRole, v.NomadMount))
	}
	if a.GrantsConsul() {
		out = append(out, RoleEntry(AttendedConsulRole, v.ConsulMount))
	}
	return out
}

// desiredAttended adds the objects of p's attended tier.
func desiredAttended(cfg *policy.Config, p policy.Profile, add func(Kind, string, Fields)) {
	a := p.Attended
	if !a.Enabled() || cfg.Attended == nil {
		return
	}
	add(VaultPolicy, policy.AttendedPolicy(p.Name), Fields{"policy": AttendedPolicyText(cfg.Vault, p)})
	if a.GrantsNomad() {
		add(AttendedNomadRole, RoleName(AttendedNomadRole, p.Name), AttendedNomadRoleFields(a))
	}
	if a.GrantsConsul() {
		add(AttendedConsulRole, RoleName(AttendedConsulRole, p.Name), AttendedConsulRoleFields(a))
	}
	add(OIDCRole, p.Name, OIDCRoleFields(cfg.SSO, *cfg.Attended, p))
}

// OIDCConfigFields are the settings of the OIDC auth config: the SSO's
// discovery document and issuer, the confidential client.
func OIDCConfigFields(sso policy.SSO, a policy.AttendedSettings) Fields {
	return Fields{
		"oidc_discovery_url": sso.Issuer,
		"bound_issuer":       sso.Issuer,
		"oidc_client_id":     a.ClientID,
		"oidc_client_secret": SecretPlaceholder,
	}
}

// AttendedNomadRoleFields are the settings of the attended nomad role:
// a management token when the tier says so, else client tokens of its
// policies.
func AttendedNomadRoleFields(a policy.Attended) Fields {
	if a.NomadManagement {
		return Fields{"policies": []string{}, "type": "management", "global": false}
	}
	return Fields{"policies": sorted(a.NomadPolicies), "type": "client", "global": false}
}

// AttendedConsulRoleFields are the settings of the attended consul role:
// the tier's ACL policies, tokens that live as long as the window.
func AttendedConsulRoleFields(a policy.Attended) Fields {
	return ConsulRoleFields(policy.Profile{ConsulPolicies: a.ConsulPolicies, TTL: a.Window, MaxTTL: a.Window})
}

// OIDCRolePolicies are the token policies of p's OIDC role, sorted: the
// tier's Vault policies and its generated policy.
func OIDCRolePolicies(p policy.Profile) []string {
	return sorted(append(slices.Clone(p.Attended.VaultPolicies), policy.AttendedPolicy(p.Name)))
}

// OIDCRoleFields are the settings of the OIDC role of p's attended tier
// (RoleFieldNames): the profile's role binding, the step-up claim when
// the tier names one, the confidential client as the only audience,
// max_age (Vault's OIDC flow asks the IdP for it and checks auth_time),
// the loopback callback, tokens that live exactly the window (not
// renewable past it), no identity groups (groups_claim unset: the role
// blocks' extra policies are not for attended tokens), and every other
// setting at Vault's default, written so that a hand edit is drift.
func OIDCRoleFields(sso policy.SSO, s policy.AttendedSettings, p policy.Profile) Fields {
	a := p.Attended
	bound := map[string][]string{sso.RolesClaim: sorted(p.Roles)}
	if a.ACR != "" {
		bound["acr"] = []string{a.ACR}
	}
	w := seconds(a.Window)
	return Fields{
		"role_type":               "oidc",
		"bound_audiences":         []string{s.ClientID},
		"bound_claims":            bound,
		"bound_claims_type":       "string",
		"user_claim":              sso.UserClaim,
		"user_claim_json_pointer": policy.IsPointer(sso.UserClaim),
		"groups_claim":            "",
		"token_policies":          OIDCRolePolicies(p),
		"token_ttl":               w,
		"token_max_ttl":           w,
		"token_explicit_max_ttl":  w,
		"max_age":                 seconds(a.MaxAge),
		"allowed_redirect_uris":   []string{RedirectURI},
		"oidc_scopes":             []string{},

		"token_period":            int64(0),
		"token_type":              "default",
		"token_num_uses":          int64(0),
		"token_bound_cidrs":       []string{},
		"token_no_default_policy": false,
		"claim_mappings":          []string{},
		"bound_subject":           "",
		"clock_skew_leeway":       int64(0),
		"expiration_leeway":       int64(0),
		"not_before_leeway":       int64(0),
		"verbose_oidc_logging":    false,
	}
}

// AttendedRules are the rules of the Vault policy generated for p's
// attended tier: for its nomad and consul roles, read on the creds and
// revocation and renewal of their leases in the path form (as
// ProfileRules, profilepolicy.go).
func AttendedRules(v policy.Vault, p policy.Profile) []PolicyRule {
	var out []PolicyRule
	for _, e := range []struct {
		mount string
		used  bool
	}{{v.NomadMount, p.Attended.GrantsNomad()}, {v.ConsulMount, p.Attended.GrantsConsul()}} {
		if !e.used {
			continue
		}
		creds := e.mount + "/creds/" + policy.AttendedRole(p.Name)
		out = append(out,
			PolicyRule{Path: creds, Capabilities: []string{"read"}},
			PolicyRule{Path: "sys/leases/revoke/" + creds + "/*", Capabilities: []string{"update"}, Denied: []Param{{Name: "*"}}},
			PolicyRule{Path: "sys/leases/renew/" + creds + "/*", Capabilities: []string{"update"}, Allowed: []Param{{Name: "increment"}}},
		)
	}
	return out
}

// AttendedPolicyText is the policy generated for p's attended tier. A
// tier with no Nomad or Consul token still gets the policy (the OIDC role
// names it), with a rule that grants nothing.
func AttendedPolicyText(v policy.Vault, p policy.Profile) string {
	rules := AttendedRules(v, p)
	if len(rules) == 0 {
		rules = []PolicyRule{{Path: "sys/leases/lookup/" + policy.AttendedPolicy(p.Name) + "-grants-nothing", Capabilities: []string{"deny"}}}
	}
	var b strings.Builder
	for _, r := range rules {
		b.WriteString(r.String())
	}
	return b.String()
}
