package plan

import (
	"slices"
	"strings"
	"sync"

	"github.com/alisw/alilogin/internal/policy"
)

// Owner judges the live objects internal/apply reads, kind by kind: is
// each the broker's (Object.Managed, Object.Legacy), and must one that is
// not be kept in the live state (a desired object has its name: Diff calls
// it a conflict) or left out. It is the one place where prune's "is this
// object the broker's?" is answered:
//
//	Nomad, Consul ACL policies  their description (ACLPolicy, DescriptionOwned)
//	Vault policies              their first line (VaultPolicy, VaultPolicyOwner)
//	Vault JWT, nomad, consul,   the roles= record of the managed policy
//	pki roles                   alilogin-profile-<name> (RoleRecorded, Role)
//	Vault identity groups       their managed_by metadata (Group, GroupOwned)
//	JWT auth config, nomad      the broker's exactly when the files ask for
//	lease config                them (Config)
//
// The roles are judged after every Vault policy (VaultPolicy records what
// each profile policy lists). Its methods may be called concurrently.
type Owner struct {
	vault  policy.Vault
	fields map[Key]Fields // the desired objects
	fold   map[Key]bool   // their folded keys, for the kinds that fold case

	mu      sync.Mutex
	records map[string]PolicyOwner // profile -> what its live managed policy records
}

// NewOwner returns the judge of live objects for the desired objects of a
// configuration whose mounts are v.
func NewOwner(v policy.Vault, desired []Object) *Owner {
	o := &Owner{vault: v, fields: map[Key]Fields{}, fold: map[Key]bool{}, records: map[string]PolicyOwner{}}
	for _, d := range desired {
		o.fields[d.Key()] = d.Fields
		if d.Kind.FoldsCase() {
			o.fold[d.Key().Fold()] = true
		}
	}
	return o
}

// Desired returns the fields of the desired object k, and whether there is
// one.
func (o *Owner) Desired(k Key) (Fields, bool) {
	f, ok := o.fields[k]
	return f, ok
}

// Wanted reports whether a live object k, not the broker's, must be kept
// in the live state: a desired object has its name, or (for kinds that
// fold case) the name in another case; Diff calls either a conflict.
func (o *Owner) Wanted(k Key) bool {
	_, ok := o.fields[k]
	return ok || k.Kind.FoldsCase() && o.fold[k.Fold()]
}

// Keep returns the live object l as the live state holds it, and whether
// it is kept at all: a managed object as it is, one that is not only when
// Wanted, and then without its fields (nothing of it is compared or
// written).
func (o *Owner) Keep(l Object) (Object, bool) {
	if l.Managed {
		return l, true
	}
	if !o.Wanted(l.Key()) {
		return Object{}, false
	}
	l.Fields, l.Legacy = nil, false
	return l, true
}

// ACLPolicy judges the Nomad or Consul ACL policy l (kind k) whose
// description is desc: managed when desc names it (DescriptionOwned),
// legacy when that is the marker of the version before.
func (o *Owner) ACLPolicy(l Object, desc string) (Object, bool) {
	l.Managed = DescriptionOwned(l.Kind, l.Name, desc)
	l.Legacy = IsLegacyDescription(l.Kind, l.Name, desc)
	return o.Keep(l)
}

// VaultPolicy judges the live Vault policy name whose text is text
// (VaultPolicyOwner), and records the roles a managed profile policy
// lists, for RoleRecorded and Role.
func (o *Owner) VaultPolicy(name, text string) (Object, bool) {
	own := VaultPolicyOwner(name, text, o.vault)
	l := Object{Kind: VaultPolicy, Name: name, Managed: own.Managed, Legacy: own.Legacy, Fields: Fields{"policy": own.Body}}
	if p, ok := policy.ProfileOfPolicy(name); ok && own.Managed {
		l.Fields["roles"], l.Fields["pending"] = own.Roles, own.Pending
		o.mu.Lock()
		o.records[p] = own
		o.mu.Unlock()
	}
	return o.Keep(l)
}

// record is what the live managed policy of profile p records.
func (o *Owner) record(p string) (PolicyOwner, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, ok := o.records[p]
	return r, ok
}

// RoleRecorded reports whether the role k/name on its mount may be the
// broker's, so that apply reads it: the managed policy
// alilogin-profile-<name> records it (RoleOwned). Role then judges what was read.
func (o *Owner) RoleRecorded(k Kind, name string) bool {
	p, ok := ProfileOfRole(k, name)
	if !ok {
		return false
	}
	r, _ := o.record(p)
	return RoleOwned(map[string][]string{p: r.Roles}, o.vault, k, name)
}

// Role judges the role l (kind, name, mount, fields as read) that
// RoleRecorded reported. It is the broker's unless its record says it
// may not be: a role recorded pending (written after its record, never
// confirmed) is the broker's only when it is exactly what the broker wrote
// (PendingOwned: its fields digest to what the entry records, whether or
// not the files still ask for it); a role of a record without mounts is
// the broker's when, as a JWT role, it names the profile's policy. A role
// of a legacy record is legacy.
func (o *Owner) Role(l Object) (Object, bool) {
	p, _ := ProfileOfRole(l.Kind, l.Name)
	r, _ := o.record(p)
	l.Managed, l.Legacy = true, r.Legacy
	e := RoleEntry(l.Kind, RoleMount(o.vault, l.Kind))
	switch digests, bare := PendingDigests(r.Pending, e); {
	case len(digests) > 0 || bare:
		desired, _ := o.Desired(l.Key())
		l.Managed = PendingOwned(l.Kind, e, r.Pending, desired, l.Fields)
	case slices.Contains(r.Unsure, e):
		pols, _ := l.Fields["token_policies"].([]string)
		l.Managed = slices.Contains(pols, policy.ProfilePolicy(l.Name))
	}
	return o.Keep(l)
}

// UnrecordedRole is the role k/name that no record lists: never the
// broker's, kept only when a desired role has its name.
func (o *Owner) UnrecordedRole(k Kind, name string) (Object, bool) {
	return o.Keep(Object{Kind: k, Name: name, Mount: RoleMount(o.vault, k)})
}

// MayOwnGroup reports whether the Vault identity group name must be read:
// its name starts with the broker's prefix (in any case: Vault compares
// group names without case), or a desired group has its name.
func (o *Owner) MayOwnGroup(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), policy.GroupPrefix) || o.Wanted(Key{Group, name})
}

// Group judges the Vault identity group l whose managed_by metadata is
// managedBy and whose alias is alias (aliasOnMount: on the broker's JWT
// mount): GroupOwned.
func (o *Owner) Group(l Object, managedBy, alias string, aliasOnMount bool) (Object, bool) {
	typ, _ := l.Fields["type"].(string)
	l.Managed = GroupOwned(l.Name, managedBy, typ, alias, aliasOnMount)
	l.Legacy = l.Managed && IsLegacyGroupMarker(managedBy)
	return o.Keep(l)
}

// Config judges a settings object of a mount (the JWT auth config, the
// nomad lease config): the broker's exactly when the files ask for it,
// which is also when apply reads it.
func (o *Owner) Config(l Object) (Object, bool) {
	_, l.Managed = o.Desired(l.Key())
	return o.Keep(l)
}
