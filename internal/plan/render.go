package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/alisw/alilogin/internal/termtext"
)

// Write prints p for people: the changes grouped by system, an update's
// changed fields (multi-line texts as a line diff), then a summary. Deletes
// are marked as skipped unless prune.
func Write(w io.Writer, p Plan, prune bool) {
	for _, sys := range Systems {
		var lines []string
		for _, c := range p.Changes {
			if c.System != sys {
				continue
			}
			switch c.Action {
			case Create:
				lines = append(lines, fmt.Sprintf("  + %s %q", c.Kind, c.Name))
			case Delete:
				note := ""
				switch {
				case c.Reserved:
					note = "  (reserved name: deleted even without --prune)"
				case c.Narrows:
					note = "  (no longer asked for in an auth method that stays: deleted even without --prune)"
				case !prune:
					note = "  (kept: deletes need --prune)"
				}
				lines = append(lines, fmt.Sprintf("  - %s %q%s", c.Kind, c.Name, note))
			case Update:
				lines = append(lines, fmt.Sprintf("  ~ %s %q", c.Kind, c.Name))
				for _, d := range c.Diffs {
					lines = append(lines, fieldLines(d)...)
				}
			}
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s:\n%s\n", title(string(sys)), strings.Join(lines, "\n"))
	}
	for _, c := range p.Conflicts {
		fmt.Fprintf(w, "! conflict: %s\n", c)
	}
	for _, k := range p.Legacy {
		fmt.Fprintf(w, "? %s: legacy, not deleted; delete by hand or declare (its marker is the version before's, which names no object, so a hand-made copy looks the same)\n", k)
	}
	n := p.Total()
	if n.Total() == 0 && len(p.Conflicts) == 0 {
		fmt.Fprintln(w, "No changes: Vault, Nomad and Consul match the policies.")
		return
	}
	fmt.Fprintf(w, "Plan: %d to create, %d to update, %d to delete.\n", n.Create, n.Update, n.Delete)
	if p.pruneDeletes() > 0 && !prune {
		fmt.Fprintln(w, "Deletes are carried out only with --prune; without it those objects stay as they are.")
	}
	if g := p.Guard(); g.Deletes > 0 && prune {
		if g.Mass {
			fmt.Fprintf(w, "! mass delete: %s.\n  apply --prune carries it out only with --allow-mass-delete; broker serve never does.\n", g)
		} else {
			fmt.Fprintf(w, "Mass-delete guard: %s.\n", g)
		}
	}
}

// String says what r is and what apply does about it.
func (r ReservedObject) String() string {
	s := fmt.Sprintf("the broker's %s %q has a reserved name (%s): ", r.Kind, r.Name, r.Why)
	switch {
	case r.Deleted:
		return s + "it is a hole the broker made before such names were refused, and apply deletes it, with or without --prune"
	case r.Kind == VaultPolicy:
		return s + "Vault cannot delete it; remove the broker's marker (its first line) by hand and check what it grants"
	}
	return s + "its marker is the legacy one, so it is not deleted; check what it grants and delete it by hand"
}

// pruneDeletes counts the deletes that need prune (Change.NeedsPrune).
func (p Plan) pruneDeletes() int {
	n := 0
	for _, c := range p.Changes {
		if c.NeedsPrune() {
			n++
		}
	}
	return n
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

func fieldLines(d FieldDiff) []string {
	os, oldIsStr := d.Old.(string)
	ns, newIsStr := d.New.(string)
	if oldIsStr && newIsStr && (strings.Contains(os, "\n") || strings.Contains(ns, "\n")) {
		out := []string{fmt.Sprintf("      %s:", d.Field)}
		// The live text is the server's: each line is cleaned of control
		// and format characters before it reaches the terminal.
		for _, l := range lineDiff(os, ns) {
			out = append(out, "        "+termtext.Clean(l))
		}
		return out
	}
	return []string{fmt.Sprintf("      %s: %s -> %s", d.Field, format(d.Old), format(d.New))}
}

// lineDiff is a minimal LCS line diff: unchanged lines with "  ", removed
// with "- ", added with "+ ".
func lineDiff(a, b string) []string {
	x := strings.Split(strings.TrimRight(a, "\n"), "\n")
	y := strings.Split(strings.TrimRight(b, "\n"), "\n")
	if len(x)*len(y) > 1_000_000 { // too big to align: show both
		var out []string
		for _, l := range x {
			out = append(out, "- "+l)
		}
		for _, l := range y {
			out = append(out, "+ "+l)
		}
		return out
	}
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			out = append(out, "  "+x[i])
			i++
			j++
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "- "+x[i])
			i++
		default:
			out = append(out, "+ "+y[j])
			j++
		}
	}
	return out
}

// JSON is the machine-readable plan of `broker plan --json`.
type JSON struct {
	Changes   []Change          `json:"changes"`
	Conflicts []Conflict        `json:"conflicts"`
	Legacy    []Key             `json:"legacy_not_deleted"`
	Reserved  []ReservedObject  `json:"reserved_names"`
	Counts    map[System]Counts `json:"counts"`
	Total     Counts            `json:"total"`
	Prune     bool              `json:"prune"`
	Guard     Guard             `json:"guard"`
}

// WriteJSON prints p as JSON, with the runes that could act on a terminal
// (DEL, C1 controls, bidi overrides, in the live text of servers) escaped
// as \uXXXX (termtext.EscapeJSON): the same JSON, safe to print.
func WriteJSON(w io.Writer, p Plan, prune bool) error {
	j := JSON{Changes: p.Changes, Conflicts: p.Conflicts, Counts: p.Counts(), Total: p.Total(), Prune: prune, Guard: p.Guard()}
	if j.Changes == nil {
		j.Changes = []Change{}
	}
	if j.Conflicts == nil {
		j.Conflicts = []Conflict{}
	}
	if j.Legacy = p.Legacy; j.Legacy == nil {
		j.Legacy = []Key{}
	}
	if j.Reserved = p.Reserved; j.Reserved == nil {
		j.Reserved = []ReservedObject{}
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, termtext.EscapeJSON(b)+"\n")
	return err
}
