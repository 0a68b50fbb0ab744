package plan

import (
	"fmt"
	"slices"
	"strings"
)

// System is one of the servers the broker configures.
type System string

// The systems, in the order plans list them.
const (
	Nomad  System = "nomad"
	Consul System = "consul"
	Vault  System = "vault"
)

// Systems lists the systems in display order.
var Systems = []System{Nomad, Consul, Vault}

// Kind is a type of object.
type Kind string

// The kinds of objects the broker manages.
const (
	NomadPolicy  Kind = "nomad acl policy"
	ConsulPolicy Kind = "consul acl policy"
	VaultPolicy  Kind = "vault policy"
	NomadRole    Kind = "vault nomad role"
	ConsulRole   Kind = "vault consul role"
	JWTRole      Kind = "vault jwt role"
	Group        Kind = "vault identity group"
	JWTConfig    Kind = "vault jwt auth config"
	NomadLease   Kind = "vault nomad lease config"
	// PKIRole is a profile's Vault PKI role (pki.go).
	PKIRole Kind = "vault pki role"
	// The objects of attended tiers (attended.go).
	OIDCConfig         Kind = "vault oidc auth config"
	OIDCRole           Kind = "vault oidc role"
	AttendedNomadRole  Kind = "vault nomad attended role"
	AttendedConsulRole Kind = "vault consul attended role"
	// Direct login (direct.go): a profile's JWT auth methods in Nomad
	// and Consul, their binding rules, and the Consul ACL role the
	// Consul rule binds.
	NomadAuthMethod   Kind = "nomad acl auth method"
	NomadBindingRule  Kind = "nomad acl binding rule"
	ConsulAuthMethod  Kind = "consul acl auth method"
	ConsulACLRole     Kind = "consul acl role"
	ConsulBindingRule Kind = "consul acl binding rule"
)

// kindRule is what the broker knows of one kind, in one place. To add a
// kind: a constant above, its line in kindRules (in apply order), the
// rule that tells whether a live object of it is the broker's (Owner,
// ownership.go), its desired objects (Desired) and, in internal/apply,
// how it is read and written.
type kindRule struct {
	kind   Kind
	system System
	// phase is the step of apply in which objects of the kind are
	// created and updated (Phase).
	phase int
	// deletable: a plan may delete such objects (Deletable).
	deletable bool
	// foldsCase: the server compares names without case (FoldsCase).
	foldsCase bool
	// id is the kind in the object part of a marker (ObjectID).
	id string
	// roleWord is how a roles= record names the kind: the Vault roles
	// of a profile, which have no room for a marker of their own.
	roleWord string
}

// kindRules, in apply order. ACL policies in Nomad and Consul come first
// (the Vault roles name them), then the Vault policies (the JWT roles
// name them; the per-profile policy is also the managed marker of the
// roles written next, so it must exist before them), then the nomad and
// consul secrets-engine roles and the nomad engine's lease config, then
// the JWT auth config, JWT roles and identity groups, which let users in.
// The JWT auth config and the nomad lease config are only ever written;
// so is the OIDC auth config of the attended tiers, written (its mount
// enabled) before the OIDC roles.
// Vault identity groups and Consul ACL policies have names the server
// compares without case (Vault lowercases policy names, so Vault policies
// count too); Nomad keeps policy names that differ in case apart, and the
// names the files give (profiles, policies) are lowercase, so Nomad
// policies and Vault roles need no such rule.
//
// Direct login's auth methods come in the first step (their binding
// rules need them), the Consul ACL role in the second (it names the
// Consul policies), and the binding rules, which let users in, last.
// Consul compares the names of auth methods and roles without case.
var kindRules = []kindRule{
	{kind: NomadPolicy, system: Nomad, phase: 1, deletable: true, id: "acl-policy"},
	{kind: ConsulPolicy, system: Consul, phase: 1, deletable: true, foldsCase: true, id: "acl-policy"},
	{kind: NomadAuthMethod, system: Nomad, phase: 1, deletable: true, id: "acl-auth-method"},
	{kind: ConsulAuthMethod, system: Consul, phase: 1, deletable: true, foldsCase: true, id: "acl-auth-method"},
	{kind: VaultPolicy, system: Vault, phase: 2, deletable: true, foldsCase: true, id: "policy"},
	{kind: ConsulACLRole, system: Consul, phase: 2, deletable: true, foldsCase: true, id: "acl-role"},
	{kind: NomadRole, system: Vault, phase: 3, deletable: true, id: "nomad-role", roleWord: "nomad"},
	{kind: ConsulRole, system: Vault, phase: 3, deletable: true, id: "consul-role", roleWord: "consul"},
	{kind: PKIRole, system: Vault, phase: 3, deletable: true, id: "pki-role", roleWord: "pki"},
	{kind: AttendedNomadRole, system: Vault, phase: 3, deletable: true, id: "nomad-attended-role", roleWord: "nomad-attended"},
	{kind: AttendedConsulRole, system: Vault, phase: 3, deletable: true, id: "consul-attended-role", roleWord: "consul-attended"},
	{kind: NomadLease, system: Vault, phase: 3, id: "nomad-lease-config"},
	{kind: OIDCConfig, system: Vault, phase: 3, id: "oidc-auth-config"},
	{kind: JWTConfig, system: Vault, phase: 4, id: "jwt-auth-config"},
	{kind: JWTRole, system: Vault, phase: 4, deletable: true, id: "jwt-role", roleWord: "jwt"},
	{kind: OIDCRole, system: Vault, phase: 4, deletable: true, id: "oidc-role", roleWord: "oidc"},
	{kind: Group, system: Vault, phase: 4, deletable: true, foldsCase: true, id: "identity-group"},
	{kind: NomadBindingRule, system: Nomad, phase: 4, deletable: true, id: "acl-binding-rule"},
	{kind: ConsulBindingRule, system: Consul, phase: 4, deletable: true, id: "acl-binding-rule"},
}

func (k Kind) rule() kindRule {
	for _, r := range kindRules {
		if r.kind == k {
			return r
		}
	}
	return kindRule{kind: k, system: Vault, phase: 4, deletable: true}
}

// Kinds lists every kind in apply order.
var Kinds = func() []Kind {
	out := make([]Kind, len(kindRules))
	for i, r := range kindRules {
		out[i] = r.kind
	}
	return out
}()

// System returns the server that holds objects of kind k.
func (k Kind) System() System { return k.rule().system }

// Phase is the step of apply in which objects of kind k are created and
// updated (1-4); deletes run in reverse phase order (see kindRules and
// Change.Rank).
func (k Kind) Phase() int { return k.rule().phase }

// Deletable reports whether a plan can delete objects of kind k: every
// kind but the JWT and OIDC auth configs and the nomad lease config,
// which the broker only ever writes.
func (k Kind) Deletable() bool { return k.rule().deletable }

// FoldsCase reports whether the server compares names of kind k without
// case (see kindRules). A desired object whose name a live object holds
// in another case is a conflict.
func (k Kind) FoldsCase() bool { return k.rule().foldsCase }

// Fields are an object's managed settings in canonical form: string,
// int64, bool, []string (sorted when the order does not matter) or
// map[string][]string.
type Fields map[string]any

// Object is one object in one system.
type Object struct {
	Kind   Kind
	Name   string
	Fields Fields
	// Live objects only:
	Managed bool   // the broker's: its marker names it (see marker.go)
	Legacy  bool   // managed by a legacy marker only: never deleted
	Mount   string // roles: the mount that holds the role
	ID      string // server-side id where the name is not the key (Consul policies, Vault groups)
}

// Key identifies an object.
type Key struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
}

// Key returns o's key.
func (o Object) Key() Key { return Key{o.Kind, o.Name} }

// Fold is k with its name lowercased, for the kinds that fold case.
func (k Key) Fold() Key { return Key{k.Kind, strings.ToLower(k.Name)} }

func (k Key) String() string { return fmt.Sprintf("%s %q", k.Kind, k.Name) }

// format renders a field value for plans.
func format(v any) string {
	switch v := v.(type) {
	case nil:
		return "(unset)"
	case string:
		return fmt.Sprintf("%q", v)
	case []string:
		q := make([]string, len(v))
		for i, s := range v {
			q[i] = fmt.Sprintf("%q", s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	case map[string][]string:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%q = %s", k, format(v[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}
