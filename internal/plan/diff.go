package plan

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/policy"
)

// Action is what apply does to one object.
type Action string

// The actions.
const (
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
)

// FieldDiff is one changed field.
type FieldDiff struct {
	Field string `json:"field"`
	Old   any    `json:"old,omitempty"`
	New   any    `json:"new,omitempty"`
}

// Change is one write (or, for an update, one object's writes).
type Change struct {
	System System      `json:"system"`
	Kind   Kind        `json:"kind"`
	Name   string      `json:"name"`
	Action Action      `json:"action"`
	Diffs  []FieldDiff `json:"diff,omitempty"`
	// Desired is what to write (create, update); Live is what is there
	// (update, delete).
	Desired *Object `json:"-"`
	Live    *Object `json:"-"`
	// Late: written after the deletes (a profile policy that stops listing
	// roles this plan deletes: its record must outlive them). Interim,
	// when set, is written first in the change's own phase (it lists both
	// the roles to delete and those to create).
	Late    bool    `json:"-"`
	Interim *Object `json:"-"`
	// Reserved: a delete of a managed policy whose name has a meaning to
	// its server (ReservedObject); carried out even without prune.
	Reserved bool `json:"reserved,omitempty"`
	// Narrows: a delete of a binding rule the broker owns inside an auth
	// method the files still ask for, which they no longer ask for (a
	// Nomad policy taken out of a profile): it takes away what the files
	// took away, as an update would, so it is carried out even without
	// prune.
	Narrows bool `json:"narrows,omitempty"`
}

// NeedsPrune reports whether c is a delete that apply carries out only
// with prune: every delete but those of reserved names (Reserved) and
// those that narrow an auth method the files still ask for (Narrows).
func (c Change) NeedsPrune() bool { return c.Action == Delete && !c.Reserved && !c.Narrows }

func (c Change) String() string { return fmt.Sprintf("%s %s %q", c.Action, c.Kind, c.Name) }

// Conflict is a desired object whose name an unmanaged object holds.
type Conflict struct {
	Kind   Kind   `json:"kind"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

func (c Conflict) String() string { return fmt.Sprintf("%s %q: %s", c.Kind, c.Name, c.Reason) }

// Plan is the difference between the desired and the live objects.
type Plan struct {
	Changes   []Change   `json:"changes"`
	Conflicts []Conflict `json:"conflicts,omitempty"`
	// Managed counts the live managed objects per kind that a plan can
	// delete (for the mass-delete guard): not the JWT auth config nor the
	// nomad lease config, which are never deleted.
	Managed map[Kind]int `json:"-"`
	// Legacy are the live objects the files do not declare whose only
	// claim is a legacy marker (one that names nothing, or names it only
	// by the file it came from): a hand-made object set up the same way
	// cannot be told apart, so they are never deleted; the plan reports
	// them for the admin to delete by hand or declare.
	Legacy []Key `json:"legacy_not_deleted,omitempty"`
	// Reserved are the live managed policies whose names have a meaning to
	// their server (policy.ServerReserved: Nomad's anonymous, which Nomad
	// applies to every request without a token, ...), which a broker made
	// before such names were refused: a hole, not a stale object. Those
	// that can be deleted are, even without prune (a Delete change with
	// Reserved set); the others are reported.
	Reserved []ReservedObject `json:"reserved_names,omitempty"`
}

// ReservedObject is a live managed policy with a name that means
// something to its server.
type ReservedObject struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	Why  string `json:"why"`
	// Deleted: the plan deletes it. Not when Vault cannot delete the
	// policy (its own: default), nor when its only claim is a legacy
	// marker (a hand-made copy looks the same).
	Deleted bool `json:"deleted"`
}

// AddConflicts adds conflicts found while reading (an object of another
// name in the way of a desired one), in order.
func (p *Plan) AddConflicts(cs ...Conflict) {
	p.Conflicts = append(p.Conflicts, cs...)
	sortConflicts(p.Conflicts)
}

func sortConflicts(cs []Conflict) {
	slices.SortFunc(cs, func(a, b Conflict) int {
		return strings.Compare(string(a.Kind)+"\x00"+a.Name, string(b.Kind)+"\x00"+b.Name)
	})
}

// Diff compares desired with live. Only the fields of the desired object
// are compared: the servers add settings of their own. Live objects the
// broker does not manage (Object.Managed false) are never changed nor
// deleted, and a desired object whose name such an object holds (for
// kinds whose server compares names without case, in any case) is a
// conflict; deletes of managed objects that are no longer desired are
// always listed (apply carries them out only with prune), except those
// managed by a legacy marker only, which are never deleted (Plan.Legacy).
// A managed binding rule no longer desired inside an auth method that is
// desired is a delete that needs no prune (Change.Narrows).
//
// The generated policy of a profile lists the profile's roles the broker
// made (Fields "roles"); it is planned to list the desired roles, and,
// without prune, also the managed roles that stay because their delete is
// skipped. A role leaves the list only after its delete (the update is
// Late), so that no role the broker made is ever unlisted while it exists.
func Diff(desired, live []Object, prune bool) Plan {
	p := Plan{Managed: map[Kind]int{}}
	liveByKey := make(map[Key]*Object, len(live))
	for i := range live {
		liveByKey[live[i].Key()] = &live[i]
		if live[i].Managed && !live[i].Legacy && live[i].Kind.Deletable() {
			p.Managed[live[i].Kind]++
		}
	}
	liveByFold := make(map[Key]*Object, len(live))
	for i := range live {
		if live[i].Kind.FoldsCase() {
			liveByFold[live[i].Key().Fold()] = &live[i]
		}
	}
	want := make(map[Key]*Object, len(desired))
	for i := range desired {
		want[desired[i].Key()] = &desired[i]
	}
	for i := range desired {
		d := &desired[i]
		l := liveByKey[d.Key()]
		if l != nil && !l.Managed {
			p.Conflicts = append(p.Conflicts, Conflict{Kind: d.Kind, Name: d.Name,
				Reason: "an object of that name exists and is not managed by the broker (no marker naming it); rename the profile or policy, or remove the existing object"})
			continue
		}
		if f := liveByFold[d.Key().Fold()]; l == nil && f != nil && d.Kind.FoldsCase() {
			p.Conflicts = append(p.Conflicts, Conflict{Kind: d.Kind, Name: d.Name,
				Reason: fmt.Sprintf("%s %q exists, whose name differs only in case (%s compares names without case); rename the profile, role or policy, or remove the existing object", d.Kind, f.Name, d.Kind.System())})
			continue
		}
		c := Change{System: d.Kind.System(), Kind: d.Kind, Name: d.Name, Action: Create, Desired: d, Live: l}
		if prof, ok := profileOfDesired(d); ok {
			d, c.Late, c.Interim = planRoles(d, l, liveByKey, want, prof, prune)
			c.Desired = d
		}
		if l == nil {
			c.Diffs = fieldDiffs(d.Fields, nil)
			p.Changes = append(p.Changes, c)
			continue
		}
		if c.Diffs = fieldDiffs(d.Fields, l.Fields); len(c.Diffs) > 0 {
			c.Action = Update
			p.Changes = append(p.Changes, c)
		}
	}
	for i := range live {
		l := &live[i]
		if l.Managed && l.Kind.Deletable() && want[l.Key()] == nil {
			if why, ok := reservedName(l); ok {
				r := ReservedObject{Kind: l.Kind, Name: l.Name, Why: why, Deleted: !l.Legacy && l.Kind != VaultPolicy}
				p.Reserved = append(p.Reserved, r)
				if r.Deleted {
					p.Changes = append(p.Changes, Change{System: l.Kind.System(), Kind: l.Kind, Name: l.Name, Action: Delete, Live: l, Reserved: true})
				}
				if !l.Legacy {
					continue // deleted now, or never (Vault's own)
				}
			}
			if l.Legacy {
				p.Legacy = append(p.Legacy, l.Key())
				continue
			}
			p.Changes = append(p.Changes, Change{System: l.Kind.System(), Kind: l.Kind, Name: l.Name, Action: Delete, Live: l, Narrows: narrows(l, want)})
		}
	}
	SortChanges(p.Changes)
	slices.SortFunc(p.Reserved, func(a, b ReservedObject) int {
		return strings.Compare(string(a.Kind)+"\x00"+a.Name, string(b.Kind)+"\x00"+b.Name)
	})
	slices.SortFunc(p.Legacy, func(a, b Key) int {
		return strings.Compare(string(a.Kind)+"\x00"+a.Name, string(b.Kind)+"\x00"+b.Name)
	})
	sortConflicts(p.Conflicts)
	return p
}

// narrows reports whether deleting the live managed object l, which is
// not desired, narrows an auth method that is: l is a binding rule in
// it (see Change.Narrows).
func narrows(l *Object, want map[Key]*Object) bool {
	mk, ok := MethodKind(l.Kind)
	return ok && want[Key{mk, MethodOfRule(l.Name)}] != nil
}

// reservedName reports whether l is a policy whose name has a meaning to
// its server (Vault refuses to delete its own, default; root,
// response-wrapping and control-group it never lets anyone write).
func reservedName(l *Object) (string, bool) {
	switch l.Kind {
	case NomadPolicy, ConsulPolicy, VaultPolicy:
		return policy.ServerReserved(string(l.Kind.System()), l.Name)
	}
	return "", false
}

// profileOfDesired tells the generated policy of a profile.
func profileOfDesired(d *Object) (string, bool) {
	if d.Kind != VaultPolicy {
		return "", false
	}
	if _, ok := d.Fields["roles"]; !ok {
		return "", false
	}
	return policy.ProfileOfPolicy(d.Name)
}

// planRoles sets the roles the generated policy of profile prof (desired
// d, live l) records after this plan: the desired roles, plus, without
// prune, the managed roles of prof that exist and are not desired (their
// delete is skipped). When that drops a role the live policy lists, the
// write is late (after the role's delete). A role to be created is
// recorded pending first (an interim write, before the role, listing it
// and every role the live policy lists, with a digest of the fields about
// to be written: PendingEntry) and confirmed by the late write; so is a
// role still pending from an apply cut short that this plan updates (its
// entries keep the digest of what is there now and add that of what is
// written). Roles whose only claim is a legacy record are never deleted
// and leave the record when not desired; so do roles recorded on a mount
// the broker is no longer configured for (they are left as they are).
func planRoles(d, l *Object, liveByKey map[Key]*Object, want map[Key]*Object, prof string, prune bool) (*Object, bool, *Object) {
	wantRoles, _ := d.Fields["roles"].([]string)
	final := slices.Clone(wantRoles)
	var have, pending []string
	if l != nil {
		have, _ = l.Fields["roles"].([]string)
		pending, _ = l.Fields["pending"].([]string)
	}
	var writing []string
	for _, k := range RoleKinds() {
		key := Key{k, RoleName(k, prof)}
		r, w := liveByKey[key], want[key]
		switch {
		case w != nil && r == nil:
			if i := slices.IndexFunc(wantRoles, func(e string) bool { return strings.HasPrefix(e, RoleWord(k)+"@") }); i >= 0 {
				writing = append(writing, wantRoles[i]+"#"+RoleDigest(k, w.Fields))
			}
		case w != nil && r.Managed && len(fieldDiffs(w.Fields, r.Fields)) > 0:
			if digests, bare := PendingDigests(pending, RoleEntry(k, r.Mount)); len(digests) > 0 || bare {
				writing = append(writing, PendingEntry(k, r.Mount, r.Fields), PendingEntry(k, w.Mount, w.Fields))
			}
		case !prune && r != nil && r.Managed && !r.Legacy && w == nil:
			final = append(final, RoleEntry(k, r.Mount))
		}
	}
	final = sorted(final)
	out := withRoles(d, final, nil)
	if len(pending) > 0 {
		out.Fields["pending"] = []string{} // confirmed by this write
	}
	dropped := slices.ContainsFunc(have, func(w string) bool { return !slices.Contains(final, w) })
	if len(writing) > 0 {
		return out, true, withRoles(d, sorted(append(slices.Clone(have), final...)), sorted(append(slices.Clone(pending), writing...)))
	}
	return out, dropped, nil
}

func withRoles(d *Object, roles, pending []string) *Object {
	o := *d
	o.Fields = make(Fields, len(d.Fields))
	for k, v := range d.Fields {
		o.Fields[k] = v
	}
	o.Fields["roles"] = roles
	if pending != nil {
		o.Fields["pending"] = pending
	}
	return &o
}

// SameFields reports whether have holds every field of want, equal.
func SameFields(want, have Fields) bool { return have != nil && len(fieldDiffs(want, have)) == 0 }

// fieldDiffs lists the fields of want that differ in have (nil: all).
func fieldDiffs(want, have Fields) []FieldDiff {
	var out []FieldDiff
	for _, k := range sortedFieldNames(want) {
		var old any
		if have != nil {
			old = have[k]
		}
		if have == nil || !equal(want[k], old) {
			out = append(out, FieldDiff{Field: k, Old: old, New: want[k]})
		}
	}
	return out
}

func sortedFieldNames(f Fields) []string {
	out := make([]string, 0, len(f))
	for k := range f {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// equal compares canonical values; a nil or empty list equals an empty one.
func equal(a, b any) bool {
	if as, ok := a.([]string); ok {
		bs, _ := b.([]string)
		return slices.Equal(as, bs)
	}
	return reflect.DeepEqual(a, b)
}
