package plan

import (
	"fmt"
	"slices"
	"strings"
)

// Guard is the verdict of the mass-delete guard on a plan: a plan that
// deletes more than half of the managed objects, or every managed object
// of a kind that has at least MinWholeKind of them, is a mass delete. It
// is what a policies folder that lost files or was cut short looks like;
// `broker apply --prune` carries it out only with --allow-mass-delete, and
// `broker serve` never. It judges the plan alone, not how the folder came
// to be. It counts the deletes that --prune adds (Change.NeedsPrune): not
// those apply carries out without it (a reserved name, a binding rule
// that narrows an auth method that stays), which it could not hold back.
type Guard struct {
	Managed int `json:"managed"` // live managed objects a plan can delete
	Deletes int `json:"deletes"` // planned deletes that need --prune
	// WholeKinds are the kinds whose every managed object the plan
	// deletes (only kinds with at least MinWholeKind of them).
	WholeKinds []Kind `json:"whole_kinds"`
	Mass       bool   `json:"mass_delete"`
}

// MinWholeKind is how many managed objects a kind must have for the
// deletion of all of them to count as a mass delete by itself. With one,
// every ordinary removal (the only identity group, the one profile's nomad
// role) would need the override; the more-than-half rule still covers
// small setups.
const MinWholeKind = 2

// Guard judges p.
func (p Plan) Guard() Guard {
	g := Guard{WholeKinds: []Kind{}}
	deletes := map[Kind]int{}
	for _, n := range p.Managed {
		g.Managed += n
	}
	for _, c := range p.Changes {
		if c.NeedsPrune() {
			g.Deletes++
			deletes[c.Kind]++
		}
	}
	for _, k := range Kinds {
		if n := p.Managed[k]; n >= MinWholeKind && deletes[k] >= n {
			g.WholeKinds = append(g.WholeKinds, k)
		}
	}
	g.Mass = g.Deletes > 0 && (2*g.Deletes > g.Managed || len(g.WholeKinds) > 0)
	return g
}

func (g Guard) String() string {
	if !g.Mass {
		return fmt.Sprintf("%d of %d managed objects would be deleted: not a mass delete", g.Deletes, g.Managed)
	}
	s := fmt.Sprintf("%d of %d managed objects would be deleted", g.Deletes, g.Managed)
	if len(g.WholeKinds) > 0 {
		names := make([]string, len(g.WholeKinds))
		for i, k := range g.WholeKinds {
			names[i] = string(k)
		}
		slices.Sort(names)
		s += ", every " + strings.Join(names, ", every ")
	}
	return s
}
