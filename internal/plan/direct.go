package plan

// direct.go: the objects of direct Nomad and Consul login (issue 24) and
// whose they are.
//
// Each profile P with direct login gets, in Nomad, the JWT auth method
// alilogin-P and one binding rule per Nomad policy of P (Nomad 1.6 binds
// policies by name), and in Consul, the JWT auth method alilogin-P, the
// ACL role alilogin-direct-P holding P's Consul policies and one binding
// rule that binds it (Consul 1.16 binds roles, services and nodes). One
// method per profile: the servers take a token's TTL from its method, and
// a login binds every rule of the method that matches.
//
// Binding rules have no names, only server-made IDs; the plan names one
// <method>/<bound name> (alilogin-P/read-jobs, alilogin-P/alilogin-direct-P)
// and its Description is the marker naming that. A rule is the broker's
// when its marker names it and it is inside a method the broker owns. A
// Consul auth method and a Consul role carry their marker in their
// Description. A Nomad auth method has no description: it is the broker's
// when one of its binding rules carries a marker naming a rule of it, or,
// when it has no rule at all (an apply cut short between the method and
// its rules), when it is exactly what the files ask for. A rule inside a
// method the broker owns that carries no such marker is a conflict: every
// rule of a method binds at login, so it would hand its bindings to the
// profile's users. Consul 1.16 counts a rule as its method's whatever
// the case of the rule's AuthMethod (MethodKey): so does the broker.
//
// A rule the broker owns inside a method the files still ask for, which
// they no longer ask for (a Nomad policy taken out of the profile), is
// deleted even without prune (Change.Narrows): keeping it would keep
// granting what the files took away, as an update narrows a Vault role
// at once.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/policy"
)

// TokenLocality is where the tokens of the auth methods are valid: the
// region (datacenter) of the server that made them.
const TokenLocality = "local"

// desiredDirect adds the direct login objects of profile p.
func desiredDirect(sso policy.SSO, p policy.Profile, add func(Kind, string, Fields)) {
	if !p.Direct() {
		return
	}
	selector, err := policy.DirectSelector(p.Roles)
	if err != nil {
		return // validate refuses such a profile
	}
	if len(p.NomadPolicies) > 0 {
		m := policy.NomadAuthMethod(p.Name)
		add(NomadAuthMethod, m, NomadAuthMethodFields(sso, p))
		for _, pol := range sorted(p.NomadPolicies) {
			add(NomadBindingRule, RuleName(m, pol), BindingRuleFields(m, selector, "policy", pol))
		}
	}
	if len(p.ConsulPolicies) > 0 {
		m, role := policy.ConsulAuthMethod(p.Name), policy.ConsulDirectRole(p.Name)
		add(ConsulAuthMethod, m, ConsulAuthMethodFields(sso, p))
		add(ConsulACLRole, role, Fields{"policies": sorted(p.ConsulPolicies), "service_identities": []string{}, "node_identities": []string{}})
		add(ConsulBindingRule, RuleName(m, role), BindingRuleFields(m, selector, "role", role))
	}
}

// RuleName is how a plan names the binding rule of method that binds
// bindName.
func RuleName(method, bindName string) string { return method + "/" + bindName }

// claimMappings are the ID token's claims an auth method copies: the
// user claim to value.user, the roles claim to list.roles.
func claimMappings(sso policy.SSO) (values, lists map[string][]string) {
	return map[string][]string{sso.UserClaim: {policy.DirectUserKey}}, map[string][]string{sso.RolesClaim: {policy.DirectRolesKey}}
}

// NomadAuthMethodFields are the settings of profile p's Nomad JWT auth
// method: the SSO's ID tokens (its issuer, its keys from its OIDC
// discovery document, the client id as the audience), tokens of the
// profile's ttl, valid in the region. The settings the broker does not
// use are written empty, so that a hand edit that adds keys or widens
// the leeways is drift.
func NomadAuthMethodFields(sso policy.SSO, p policy.Profile) Fields {
	values, lists := claimMappings(sso)
	return Fields{
		"type":                    "JWT",
		"token_locality":          TokenLocality,
		"max_token_ttl":           seconds(p.TTL),
		"default":                 false,
		"oidc_discovery_url":      sso.Issuer,
		"bound_issuer":            []string{sso.Issuer},
		"bound_audiences":         []string{sso.ClientID},
		"claim_mappings":          values,
		"list_claim_mappings":     lists,
		"jwks_url":                "",
		"jwt_validation_pub_keys": []string{},
		"discovery_ca_pem":        []string{},
		"signing_algs":            []string{},
		"expiration_leeway":       int64(0),
		"not_before_leeway":       int64(0),
		"clock_skew_leeway":       int64(0),
	}
}

// ConsulAuthMethodFields are the settings of profile p's Consul JWT auth
// method, as NomadAuthMethodFields.
func ConsulAuthMethodFields(sso policy.SSO, p policy.Profile) Fields {
	values, lists := claimMappings(sso)
	return Fields{
		"type":                    "jwt",
		"token_locality":          TokenLocality,
		"max_token_ttl":           seconds(p.TTL),
		"oidc_discovery_url":      sso.Issuer,
		"bound_issuer":            sso.Issuer,
		"bound_audiences":         []string{sso.ClientID},
		"claim_mappings":          values,
		"list_claim_mappings":     lists,
		"jwks_url":                "",
		"jwt_validation_pub_keys": []string{},
		"oidc_discovery_ca_cert":  "",
		"jwt_supported_algs":      []string{},
		"expiration_leeway":       int64(0),
		"not_before_leeway":       int64(0),
		"clock_skew_leeway":       int64(0),
	}
}

// BindingRuleFields are the settings of a binding rule of method.
func BindingRuleFields(method, selector, bindType, bindName string) Fields {
	return Fields{"auth_method": method, "selector": selector, "bind_type": bindType, "bind_name": bindName}
}

// MethodKey is the key by which the server of auth methods of kind k
// finds the binding rules of the method name: Consul 1.16 lowercases
// both a rule's AuthMethod and the name asked for (strings.ToLower, in
// its state store's index of binding rules), so a rule written for
// "ALILOGIN-CI" binds at logins to alilogin-ci; Nomad 1.6 compares them
// exactly.
func MethodKey(k Kind, name string) string {
	if k == ConsulAuthMethod {
		return strings.ToLower(name)
	}
	return name
}

// RuleKind is the kind of the binding rules of auth method kind k.
func RuleKind(k Kind) Kind {
	if k == ConsulAuthMethod {
		return ConsulBindingRule
	}
	return NomadBindingRule
}

// MethodKind is the kind of the auth methods binding rules of kind rk
// are in, and false when rk is not a binding rule kind.
func MethodKind(rk Kind) (Kind, bool) {
	switch rk {
	case NomadBindingRule:
		return NomadAuthMethod, true
	case ConsulBindingRule:
		return ConsulAuthMethod, true
	}
	return "", false
}

// MethodOfRule is the auth method a binding rule's plan name is in.
func MethodOfRule(name string) string {
	m, _, _ := strings.Cut(name, "/")
	return m
}

// DirectDescription is the Description of the managed Consul auth
// method, Consul role or binding rule k/name (a marker naming it).
func DirectDescription(k Kind, name string) string { return MarkerFor(k, name) }

// RuleOfMarker reads the plan name of a binding rule of kind k from its
// Description: ok when desc is a marker naming such a rule.
func RuleOfMarker(k Kind, desc string) (name string, ok bool) {
	prefix := markerPrefix + string(k.System()) + "/" + k.rule().id + "/"
	rest, found := strings.CutPrefix(desc, prefix)
	if !found {
		return "", false
	}
	name, _, _ = strings.Cut(rest, "; ")
	m, bind, _ := strings.Cut(name, "/")
	if m == "" || bind == "" {
		return "", false
	}
	return name, true
}

// LiveMethod is an auth method as read.
type LiveMethod struct {
	Name string
	// Description: Consul's (Nomad's auth methods have none).
	Description string
	Fields      Fields
}

// LiveRule is a binding rule as read.
type LiveRule struct {
	ID          string
	Method      string // the auth method it is in
	Description string
	Fields      Fields
}

// MayOwnAuthMethod reports whether the auth method name must be read:
// its name starts with the broker's prefix (in any case), or a desired
// method has its name.
func (o *Owner) MayOwnAuthMethod(k Kind, name string) bool {
	return strings.HasPrefix(strings.ToLower(name), policy.AuthMethodPrefix) || o.Wanted(Key{k, name})
}

// MayOwnConsulRole reports whether the Consul ACL role name must be read.
func (o *Owner) MayOwnConsulRole(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), policy.DirectRolePrefix) || o.Wanted(Key{ConsulACLRole, name})
}

// ConsulRole judges the Consul ACL role l whose description is desc:
// managed when desc is a marker naming it.
func (o *Owner) ConsulRole(l Object, desc string) (Object, bool) {
	l.Managed, _ = parseMarker(ConsulACLRole, l.Name, desc)
	return o.Keep(l)
}

// AuthMethods judges the auth methods of kind k (NomadAuthMethod or
// ConsulAuthMethod) and the binding rules in them (see the top of this
// file): the objects to keep in the live state, and the conflicts of
// rules the broker did not make inside the methods it owns.
func (o *Owner) AuthMethods(k Kind, methods []LiveMethod, rules []LiveRule) (live []Object, conflicts []Conflict) {
	rk := RuleKind(k)
	byMethod := map[string][]LiveRule{}
	for _, r := range rules {
		byMethod[MethodKey(k, r.Method)] = append(byMethod[MethodKey(k, r.Method)], r)
	}
	for _, m := range methods {
		in := byMethod[MethodKey(k, m.Name)]
		var marked []LiveRule
		names := map[string]string{} // rule ID -> plan name
		for _, r := range in {
			if name, ok := RuleOfMarker(rk, r.Description); ok && MethodOfRule(name) == m.Name {
				marked = append(marked, r)
				names[r.ID] = name
			}
		}
		var managed bool
		switch k {
		case ConsulAuthMethod:
			managed, _ = parseMarker(k, m.Name, m.Description)
		default:
			want, ok := o.Desired(Key{k, m.Name})
			managed = len(marked) > 0 || len(in) == 0 && ok && SameFields(want, m.Fields)
		}
		obj, keep := o.Keep(Object{Kind: k, Name: m.Name, Fields: m.Fields, Managed: managed})
		if keep {
			live = append(live, obj)
		}
		if !managed {
			continue
		}
		seen := map[string]string{}
		for _, r := range in {
			name, ok := names[r.ID]
			switch {
			case !ok:
				conflicts = append(conflicts, Conflict{Kind: rk, Name: RuleName(m.Name, "id "+r.ID),
					Reason: fmt.Sprintf("binding rule %s is inside the broker's auth method %q but was not made by the broker (no marker naming it); a login binds every rule of its method that matches, so it would add its bindings to the profile's tokens: delete it, or put it in an auth method of its own", r.ID, m.Name)})
			case seen[name] != "":
				conflicts = append(conflicts, Conflict{Kind: rk, Name: name,
					Reason: fmt.Sprintf("binding rules %s and %s both carry the marker of this rule; delete the one that was copied", seen[name], r.ID)})
			default:
				seen[name] = r.ID
				live = append(live, Object{Kind: rk, Name: name, ID: r.ID, Fields: r.Fields, Managed: true})
			}
		}
	}
	slices.SortFunc(conflicts, func(a, b Conflict) int { return strings.Compare(a.Name, b.Name) })
	return live, conflicts
}
