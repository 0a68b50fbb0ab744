package policy

// direct.go: direct Nomad and Consul login (issue 24). broker.hcl turns it
// on (direct_login { enabled = true }); each profile with Nomad or Consul
// policies then gets a Nomad JWT auth method and a Consul JWT auth method
// of its own, which accept the SSO's ID token at /v1/acl/login when Vault
// cannot mint tokens. A profile says how alilogin uses them
// (direct_login = "fallback" | "always" | "off").

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// DirectLogin is broker.hcl's direct_login block.
type DirectLogin struct {
	// Enabled: profiles may use direct login (and do by default).
	Enabled bool
}

// The direct login modes of a profile.
const (
	DirectOff      = "off"
	DirectFallback = "fallback" // when Vault cannot mint the token
	DirectAlways   = "always"   // never through Vault's engines
)

// The TTLs Nomad 1.6 and Consul 1.16 allow for the tokens of an auth
// method (MaxTokenTTL) by default: both refuse less than a minute, Nomad
// more than 24 hours (ACLTokenMinExpirationTTL, ACLTokenMaxExpirationTTL).
const (
	MinDirectTTL = time.Minute
	MaxDirectTTL = 24 * time.Hour
)

// Direct reports whether profile p gets auth methods: direct login is on
// for it and it grants Nomad or Consul tokens.
func (p Profile) Direct() bool {
	return (p.DirectLogin == DirectFallback || p.DirectLogin == DirectAlways) &&
		(len(p.NomadPolicies) > 0 || len(p.ConsulPolicies) > 0)
}

// DirectMethods are the names of profile p's Nomad and Consul auth
// methods ("" where it has none): what the discovery document tells
// alilogin.
func (p Profile) DirectMethods() (nomad, consul string) {
	if !p.Direct() {
		return "", ""
	}
	if len(p.NomadPolicies) > 0 {
		nomad = NomadAuthMethod(p.Name)
	}
	if len(p.ConsulPolicies) > 0 {
		consul = ConsulAuthMethod(p.Name)
	}
	return nomad, consul
}

// AuthMethodPrefix starts the names of the Nomad and Consul auth methods
// the broker makes.
const AuthMethodPrefix = "alilogin-"

// NomadAuthMethod is the name of profile p's Nomad JWT auth method.
func NomadAuthMethod(p string) string { return AuthMethodPrefix + p }

// ConsulAuthMethod is the name of profile p's Consul JWT auth method.
func ConsulAuthMethod(p string) string { return AuthMethodPrefix + p }

// DirectRolePrefix starts the names of the Consul ACL roles the broker
// makes; Consul 1.16's binding rules bind roles, not policies.
const DirectRolePrefix = "alilogin-direct-"

// ConsulDirectRole is the name of the Consul ACL role that holds profile
// p's Consul policies for direct login.
func ConsulDirectRole(p string) string { return DirectRolePrefix + p }

// The claims an auth method maps the ID token's roles and user claims to;
// a binding rule's selector reads list.roles.
const (
	DirectRolesKey = "roles"
	DirectUserKey  = "user"
)

// selectorRoleRE is the set of characters a role may have to go into a
// selector between double quotes: no quote, no backslash, nothing the
// selector language (go-bexpr) reads as anything but text. CheckRole's
// set is inside it.
var selectorRoleRE = regexp.MustCompile(`^[A-Za-z0-9_.@:-]+$`)

// DirectSelector is the binding-rule selector that matches an ID token
// holding any of roles: "r1" in list.roles or "r2" in list.roles. It
// refuses a role outside the safe set, so that no role can change what
// the selector says.
func DirectSelector(roles []string) (string, error) {
	if len(roles) == 0 {
		return "", fmt.Errorf("no role to select")
	}
	parts := make([]string, len(roles))
	for i, r := range roles {
		if !selectorRoleRE.MatchString(r) {
			return "", fmt.Errorf("%q cannot go into a binding-rule selector: want letters, digits and _ . @ : -", r)
		}
		parts[i] = `"` + r + `" in list.` + DirectRolesKey
	}
	return strings.Join(parts, " or "), nil
}

// loadDirectLogin reads broker.hcl's direct_login block.
func (l *loader) loadDirectLogin(b *hcl.Block) {
	a := l.attrs(b, []hcl.AttributeSchema{{Name: "enabled", Required: true}})
	l.cfg.DirectLogin.Enabled = l.boolean(a, "enabled")
}

// directRef is where a profile sets direct_login.
type directRef struct {
	profile string
	mode    string
	rng     hcl.Range
}

// loadProfileDirect reads a profile's direct_login (checked against the
// broker.hcl block in finishDirect, which may be in a file read later).
func (l *loader) loadProfileDirect(a hcl.Attributes, p *Profile) {
	at := a["direct_login"]
	if at == nil {
		return
	}
	p.DirectLogin = l.str(a, "direct_login", "")
	switch p.DirectLogin {
	case DirectOff, DirectFallback, DirectAlways:
		l.directRefs = append(l.directRefs, directRef{profile: p.Name, mode: p.DirectLogin, rng: at.Expr.Range()})
	default:
		l.errorf(at.Expr.Range().Ptr(), "Invalid direct_login", "%q: want \"fallback\", \"always\" or \"off\"", p.DirectLogin)
		p.DirectLogin = DirectOff
	}
}

// finishDirect sets each profile's mode (default: fallback when broker.hcl
// enables direct login, else off) and checks what the servers need: the
// broker.hcl block, Nomad or Consul policies, a TTL Nomad and Consul take,
// and roles that can go into a selector.
func (l *loader) finishDirect() {
	set := map[string]directRef{}
	for _, r := range l.directRefs {
		set[r.profile] = r
	}
	for i := range l.cfg.Profiles {
		p := &l.cfg.Profiles[i]
		ref, explicit := set[p.Name]
		if !explicit {
			p.DirectLogin = DirectOff
			if l.cfg.DirectLogin.Enabled && (len(p.NomadPolicies) > 0 || len(p.ConsulPolicies) > 0) {
				p.DirectLogin = DirectFallback
			}
		}
		if p.DirectLogin == DirectOff {
			continue
		}
		if !l.cfg.DirectLogin.Enabled {
			l.errorf(ref.rng.Ptr(), "Direct login not enabled", "profile %q asks for direct_login = %q, but broker.hcl does not enable it: add direct_login { enabled = true } to broker.hcl, or remove this line", p.Name, p.DirectLogin)
			continue
		}
		if len(p.NomadPolicies) == 0 && len(p.ConsulPolicies) == 0 {
			l.errorf(ref.rng.Ptr(), "Invalid direct_login", "profile %q grants no Nomad or Consul policy, so there is nothing to log in to directly; remove this line", p.Name)
			continue
		}
		rng := l.profileAttr(p.Name, "ttl")
		if p.TTL > 0 && (p.TTL < MinDirectTTL || p.TTL > MaxDirectTTL) {
			l.errorf(rng, "Invalid ttl for direct login", "profile %q: ttl %s is outside what Nomad and Consul allow an auth method's tokens (%s to %s); direct login gives each login a token of the profile's ttl", p.Name, p.TTL, MinDirectTTL, MaxDirectTTL)
		}
		if _, err := DirectSelector(p.Roles); err != nil {
			l.errorf(l.profileAttr(p.Name, "roles"), "Invalid role for direct login", "profile %q: %v", p.Name, err)
		}
	}
}

// profileAttr is where attribute name of profile p is, else the profile's
// name label.
func (l *loader) profileAttr(p, name string) *hcl.Range {
	if r, ok := l.profileAttrs[p+"\x00"+name]; ok {
		return r.Ptr()
	}
	return l.profiles[p]
}
