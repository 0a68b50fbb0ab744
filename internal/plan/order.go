package plan

import (
	"slices"
	"strings"
)

// Apply order. Creates and updates run by phase (Kind.Phase: what an
// object names is written before it), deletes in reverse phase order,
// then the late writes (a profile policy whose record must outlive the
// roles this plan deletes). A change with an interim object is written
// twice: the interim in its own phase, the change late.

// Rank is the step of apply in which c is written: creates and updates by
// phase (1-4), deletes in reverse phase order (6-9), late updates last
// (10).
func (c Change) Rank() int {
	switch {
	case c.Action == Delete:
		return 10 - c.Kind.Phase()
	case c.Late:
		return 10
	}
	return c.Kind.Phase()
}

// Step is one write of apply: a change, or the interim write of a change
// (Final false: it does not count as the change done).
type Step struct {
	Change Change
	Final  bool
}

// Steps lists the writes of changes in apply order, grouped by Rank: the
// writes of one group may run at once, a group only after the one before.
func Steps(changes []Change) [][]Step {
	type ranked struct {
		Step
		rank int
	}
	var all []ranked
	for _, c := range changes {
		if c.Interim != nil {
			ic := c
			ic.Desired, ic.Late, ic.Interim = c.Interim, false, nil
			all = append(all, ranked{Step{Change: ic}, ic.Rank()})
		}
		all = append(all, ranked{Step{Change: c, Final: true}, c.Rank()})
	}
	slices.SortStableFunc(all, func(a, b ranked) int { return a.rank - b.rank })
	var out [][]Step
	for i, r := range all {
		if i == 0 || r.rank != all[i-1].rank {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], r.Step)
	}
	return out
}

// ToDo splits the changes of p into those apply carries out and those it
// skips: deletes need prune, but for those of policies with a reserved
// name (Change.Reserved) and those of binding rules that narrow an auth
// method the files still ask for (Change.Narrows).
func (p Plan) ToDo(prune bool) (todo, skipped []Change) {
	for _, c := range p.Changes {
		if !prune && c.NeedsPrune() {
			skipped = append(skipped, c)
			continue
		}
		todo = append(todo, c)
	}
	return todo, skipped
}

// Counts are the numbers of changes of each action.
type Counts struct {
	Create int `json:"create"`
	Update int `json:"update"`
	Delete int `json:"delete"`
}

// Total is the number of changes.
func (c Counts) Total() int { return c.Create + c.Update + c.Delete }

// Add counts one change of action a.
func (c *Counts) Add(a Action) {
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
		Count(out, c)
	}
	return out
}

// Total counts all changes.
func (p Plan) Total() Counts {
	var n Counts
	for _, c := range p.Changes {
		n.Add(c.Action)
	}
	return n
}

// Count adds change c to the counts of its system in m.
func Count(m map[System]Counts, c Change) {
	n := m[c.System]
	n.Add(c.Action)
	m[c.System] = n
}

// SortChanges sorts changes in apply order (Rank); within a step by kind
// and name.
func SortChanges(cs []Change) {
	slices.SortStableFunc(cs, func(a, b Change) int {
		if d := a.Rank() - b.Rank(); d != 0 {
			return d
		}
		if d := slices.Index(Kinds, a.Kind) - slices.Index(Kinds, b.Kind); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
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
