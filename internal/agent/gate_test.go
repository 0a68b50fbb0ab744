package agent

import (
	"regexp"
	"testing"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestGatesAreRandomUUIDs: a gate is a version-4 UUID (the shape the
// nomad and consul CLIs accept for a token), never the same twice, and
// the table finds it by its hash only for its own profile and server.
func TestGatesAreRandomUUIDs(t *testing.T) {
	g := newGates()
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		x, err := g.issue("p", Nomad)
		if err != nil {
			t.Fatal(err)
		}
		if !uuidV4.MatchString(x) {
			t.Fatalf("gate %q is no version-4 UUID", x)
		}
		if seen[x] {
			t.Fatalf("gate %q issued twice", x)
		}
		seen[x] = true
	}
	x, _ := g.issue("q", Consul)
	if e, ok := g.lookup(x); !ok || e.Profile != "q" || e.Server != Consul {
		t.Errorf("lookup of a gate of q's Consul route: %+v %v", e, ok)
	}
	g.drop("q")
	if _, ok := g.lookup(x); ok {
		t.Errorf("a gate of a dropped profile is still found")
	}
	if g.count("p") != 2000 {
		t.Errorf("gates issued for p: %d, want 2000", g.count("p"))
	}
}
