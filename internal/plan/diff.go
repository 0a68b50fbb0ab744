package plan

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
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
}

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
}

// Counts are the numbers of changes of each action.
type Counts struct {
	Create int `json:"create"`
	Update int `json:"update"`
	Delete int `json:"delete"`
}

// Total is the number of changes.
func (c Counts) Total() int { return c.Create + c.Update + c.Delete }

func (c *Counts) add(a Action) {
	switch a {
	case Create:
		c.Create++
	case Update:
		c.Update++
	case Delete:
		c.Delete++
	}
}

// Counts counts the changes per system.
func (p Plan) Counts() map[System]Counts {
	out := map[System]Counts{}
	for _, s := range Systems {
		out[s] = Counts{}
	}
	for _, c := range p.Changes {
		n := out[c.System]
		n.add(c.Action)
		out[c.System] = n
	}
	return out
}

// Total counts all changes.
func (p Plan) Total() Counts {
	var n Counts
	for _, c := range p.Changes {
		n.add(c.Action)
	}
	return n
}

// Empty reports whether there is nothing to do.
func (p Plan) Empty() bool { return len(p.Changes) == 0 && len(p.Conflicts) == 0 }

// Diff compares desired with live. Only the fields of the desired object
// are compared: the servers add settings of their own. Live objects without
// the managed marker are never changed nor deleted; deletes of managed
// objects that are no longer desired are always listed (apply carries them
// out only with --prune).
func Diff(desired, live []Object) Plan {
	var p Plan
	liveByKey := make(map[Key]*Object, len(live))
	for i := range live {
		liveByKey[live[i].Key()] = &live[i]
	}
	want := make(map[Key]bool, len(desired))
	for i := range desired {
		d := &desired[i]
		want[d.Key()] = true
		l := liveByKey[d.Key()]
		switch {
		case l == nil:
			p.Changes = append(p.Changes, Change{System: d.Kind.System(), Kind: d.Kind, Name: d.Name, Action: Create, Desired: d, Diffs: fieldDiffs(d.Fields, nil)})
		case !l.Managed:
			p.Conflicts = append(p.Conflicts, Conflict{Kind: d.Kind, Name: d.Name,
				Reason: "an object of that name exists and is not managed by the broker; rename the profile or policy, or remove the existing object"})
		default:
			if diffs := fieldDiffs(d.Fields, l.Fields); len(diffs) > 0 {
				p.Changes = append(p.Changes, Change{System: d.Kind.System(), Kind: d.Kind, Name: d.Name, Action: Update, Desired: d, Live: l, Diffs: diffs})
			}
		}
	}
	for i := range live {
		l := &live[i]
		if l.Managed && !want[l.Key()] {
			p.Changes = append(p.Changes, Change{System: l.Kind.System(), Kind: l.Kind, Name: l.Name, Action: Delete, Live: l})
		}
	}
	SortChanges(p.Changes)
	slices.SortFunc(p.Conflicts, func(a, b Conflict) int {
		return strings.Compare(string(a.Kind)+"\x00"+a.Name, string(b.Kind)+"\x00"+b.Name)
	})
	return p
}

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

// SortChanges sorts changes in apply order: creates and updates by phase,
// then deletes in reverse phase order; within a phase by kind and name.
func SortChanges(cs []Change) {
	rank := func(c Change) int {
		if c.Action == Delete {
			return 10 - c.Kind.Phase()
		}
		return c.Kind.Phase()
	}
	slices.SortStableFunc(cs, func(a, b Change) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		if d := slices.Index(Kinds, a.Kind) - slices.Index(Kinds, b.Kind); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
}
