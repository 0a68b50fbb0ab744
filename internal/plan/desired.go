package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/policy"
)

// VaultPolicyText is what the broker stores in Vault for a policy file:
// the marker as a comment line, then the file as written. Vault keeps the
// text verbatim, so the marker survives.
func VaultPolicyText(d policy.Document) string {
	return "# " + Marker + " from " + d.File + "\n" + d.Rules
}

// IsManagedVaultPolicy reports whether a Vault policy text carries the marker.
func IsManagedVaultPolicy(text string) bool { return strings.HasPrefix(text, "# "+Marker) }

// Description is the description of a managed Nomad or Consul ACL policy.
func Description(d policy.Document) string { return Marker + " from " + d.File }

// IsManagedDescription reports whether a Nomad or Consul description
// carries the marker.
func IsManagedDescription(desc string) bool { return strings.HasPrefix(desc, Marker) }

// ProfilePolicyText is the Vault policy generated for profile p: read on
// the creds of its nomad and consul roles (when it has them).
func ProfilePolicyText(v policy.Vault, p policy.Profile) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: profile %s (generated; edit policies/, not this)\n", Marker, p.Name)
	if len(p.NomadPolicies) > 0 {
		fmt.Fprintf(&b, "path %q {\n  capabilities = [\"read\"]\n}\n", v.NomadMount+"/creds/"+p.Name)
	}
	if len(p.ConsulPolicies) > 0 {
		fmt.Fprintf(&b, "path %q {\n  capabilities = [\"read\"]\n}\n", v.ConsulMount+"/creds/"+p.Name)
	}
	return b.String()
}

func seconds(d interface{ Seconds() float64 }) int64 { return int64(d.Seconds()) }

// Desired returns every object cfg asks for, sorted by kind and name.
func Desired(cfg *policy.Config) []Object {
	var out []Object
	add := func(k Kind, name string, f Fields) { out = append(out, Object{Kind: k, Name: name, Fields: f}) }

	for _, d := range cfg.NomadPolicies {
		add(NomadPolicy, d.Name, Fields{"description": Description(d), "rules": d.Rules})
	}
	for _, d := range cfg.ConsulPolicies {
		add(ConsulPolicy, d.Name, Fields{"description": Description(d), "rules": d.Rules})
	}
	for _, d := range cfg.VaultPolicies {
		add(VaultPolicy, d.Name, Fields{"policy": VaultPolicyText(d)})
	}
	if cfg.Vault.ConfigureJWT {
		add(JWTConfig, cfg.Vault.JWTMount, Fields{"oidc_discovery_url": cfg.SSO.Issuer, "bound_issuer": cfg.SSO.Issuer})
	}
	for _, p := range cfg.Profiles {
		add(VaultPolicy, policy.ProfilePolicy(p.Name), Fields{"policy": ProfilePolicyText(cfg.Vault, p)})
		if len(p.NomadPolicies) > 0 {
			add(NomadRole, p.Name, Fields{"policies": sorted(p.NomadPolicies), "type": "client", "global": false})
		}
		if len(p.ConsulPolicies) > 0 {
			add(ConsulRole, p.Name, Fields{"consul_policies": sorted(p.ConsulPolicies), "ttl": seconds(p.TTL), "max_ttl": seconds(p.MaxTTL)})
		}
		add(JWTRole, p.Name, JWTRoleFields(cfg.SSO, p))
	}
	for _, r := range cfg.Roles {
		add(Group, policy.Group(r.Name), Fields{"type": "external", "policies": sorted(r.VaultPolicies), "alias": r.Name})
	}
	SortObjects(out)
	return out
}

// JWTRoleFields are the settings of the Vault JWT role of profile p.
func JWTRoleFields(sso policy.SSO, p policy.Profile) Fields {
	f := Fields{
		"role_type":         "jwt",
		"bound_audiences":   []string{sso.ClientID},
		"bound_claims":      map[string][]string{sso.RolesClaim: sorted(p.Roles)},
		"bound_claims_type": "string",
		"user_claim":        sso.UserClaim,
		"groups_claim":      sso.RolesClaim,
		"token_policies":    sorted(append(slices.Clone(p.VaultPolicies), policy.ProfilePolicy(p.Name))),
		"token_ttl":         seconds(p.TTL),
		"token_max_ttl":     seconds(p.MaxTTL),
		// Vault reads a user_claim that starts with "/" as a JSON pointer
		// only when told to.
		"user_claim_json_pointer": policy.IsPointer(sso.UserClaim),
	}
	return f
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// SortObjects sorts by apply order of kinds, then name.
func SortObjects(objs []Object) {
	slices.SortFunc(objs, func(a, b Object) int {
		if c := slices.Index(Kinds, a.Kind) - slices.Index(Kinds, b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}
