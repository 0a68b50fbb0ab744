package plan

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSteps: apply's writes, grouped by step: creates and updates by
// phase, deletes in reverse, an interim write in its phase and its change
// late; only the change counts as done.
func TestSteps(t *testing.T) {
	interim := &Object{Kind: VaultPolicy, Name: "alilogin-profile-ci"}
	changes := []Change{
		{Kind: JWTRole, Name: "ci", Action: Create},
		{Kind: NomadPolicy, Name: "n", Action: Update},
		{Kind: NomadPolicy, Name: "old", Action: Delete},
		{Kind: Group, Name: "alilogin-role-old", Action: Delete},
		{Kind: VaultPolicy, Name: "alilogin-profile-ci", Action: Update, Late: true, Interim: interim},
		{Kind: NomadRole, Name: "ci", Action: Create},
		{Kind: ConsulPolicy, Name: "c", Action: Create},
	}
	var got [][]string
	for _, step := range Steps(changes) {
		var names []string
		for _, s := range step {
			names = append(names, fmt.Sprintf("%s %s late=%v final=%v", s.Change.Action, s.Change.Name, s.Change.Late, s.Final))
		}
		got = append(got, names)
	}
	want := [][]string{
		{"update n late=false final=true", "create c late=false final=true"},
		{"update alilogin-profile-ci late=false final=false"},
		{"create ci late=false final=true"},
		{"create ci late=false final=true"},
		{"delete alilogin-role-old late=false final=true"},
		{"delete old late=false final=true"},
		{"update alilogin-profile-ci late=true final=true"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("steps (-want +got):\n%s", d)
	}
	if s := Steps(changes)[1][0].Change; s.Desired != interim || s.Interim != nil {
		t.Errorf("the interim write writes %v (interim %v), want the interim object", s.Desired, s.Interim)
	}
	if got := Steps(nil); len(got) != 0 {
		t.Errorf("Steps(nil) = %v", got)
	}
}

// TestToDo: without prune, deletes are skipped and the rest is done.
func TestToDo(t *testing.T) {
	p := Plan{Changes: []Change{{Kind: NomadPolicy, Name: "a", Action: Create}, {Kind: NomadPolicy, Name: "b", Action: Delete}, {Kind: JWTRole, Name: "c", Action: Update}}}
	todo, skipped := p.ToDo(false)
	if len(todo) != 2 || len(skipped) != 1 || skipped[0].Name != "b" {
		t.Errorf("without prune: todo %v, skipped %v", todo, skipped)
	}
	todo, skipped = p.ToDo(true)
	if len(todo) != 3 || len(skipped) != 0 {
		t.Errorf("with prune: todo %v, skipped %v", todo, skipped)
	}
}

// TestCounts: counts per system and in all, from the same rule as apply's
// count of what it carried out (Count).
func TestCounts(t *testing.T) {
	p := Plan{Changes: []Change{
		{System: Nomad, Action: Create}, {System: Nomad, Action: Delete},
		{System: Vault, Action: Update}, {System: Vault, Action: Update}, {System: Vault, Action: Create},
	}}
	want := map[System]Counts{Nomad: {Create: 1, Delete: 1}, Consul: {}, Vault: {Create: 1, Update: 2}}
	if d := cmp.Diff(want, p.Counts()); d != "" {
		t.Errorf("Counts (-want +got):\n%s", d)
	}
	if got := p.Total(); got != (Counts{Create: 2, Update: 2, Delete: 1}) || got.Total() != 5 {
		t.Errorf("Total = %+v", got)
	}
	applied := map[System]Counts{}
	for _, c := range p.Changes {
		Count(applied, c)
	}
	delete(want, Consul)
	if d := cmp.Diff(want, applied); d != "" {
		t.Errorf("Count (-want +got):\n%s", d)
	}
}
