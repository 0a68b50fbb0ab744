package agent

import (
	"regexp"
	"testing"
	"time"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestGatesAreRandomUUIDs: a gate is a version-4 UUID (the shape the
// nomad and consul CLIs accept for a token), never the same twice, and
// the table finds it by its hash only for its own profile and server.
func TestGatesAreRandomUUIDs(t *testing.T) {
	g := newGates(time.Now)
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

// TestGatesDieIdleAndAreBoundedPerProfile: a gate that let no request in
// for gateIdle is refused (one in use stays live), and a profile holds
// at most maxGatesPerProfile gates, the least recently used forgotten
// first, without touching another profile's.
func TestGatesDieIdleAndAreBoundedPerProfile(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	g := newGates(func() time.Time { return now })
	idle, _ := g.issue("p", Nomad)
	used, _ := g.issue("p", Nomad)
	other, _ := g.issue("q", Vault)
	now = now.Add(gateIdle - time.Minute)
	if _, ok := g.lookup(used); !ok {
		t.Fatal("a gate used within its idle time was refused")
	}
	now = now.Add(2 * time.Minute)
	if _, ok := g.lookup(idle); ok {
		t.Errorf("a gate idle for %v is still live", gateIdle+time.Minute)
	}
	if _, ok := g.lookup(used); !ok {
		t.Errorf("a gate used %v ago died", 2*time.Minute)
	}
	if _, ok := g.lookup(other); ok {
		t.Errorf("q's idle gate is still live")
	}

	// The bound: p's least recently used gate goes first.
	keep, _ := g.issue("q", Consul)
	var first []string
	for i := 0; len(first) < maxGatesPerProfile-1; i++ {
		now = now.Add(time.Millisecond)
		x, err := g.issue("p", Nomad)
		if err != nil {
			t.Fatal(err)
		}
		first = append(first, x)
	}
	now = now.Add(time.Millisecond)
	if _, ok := g.lookup(used); !ok { // used again: now p's most recent
		t.Fatal("p's used gate died before the bound")
	}
	for i := 0; i < 10; i++ {
		now = now.Add(time.Millisecond)
		if _, err := g.issue("p", Nomad); err != nil {
			t.Fatal(err)
		}
	}
	if n := g.live["p"]; n != maxGatesPerProfile {
		t.Errorf("p holds %d gates, want the bound %d", n, maxGatesPerProfile)
	}
	for _, x := range first[:10] {
		if _, ok := g.lookup(x); ok {
			t.Errorf("one of p's 10 least recently used gates is live beyond the bound")
		}
	}
	if _, ok := g.lookup(first[10]); !ok {
		t.Errorf("p's 11th oldest gate died: more than needed were forgotten")
	}
	if _, ok := g.lookup(used); !ok {
		t.Errorf("p's recently used gate died at the bound")
	}
	if _, ok := g.lookup(keep); !ok {
		t.Errorf("q's gate died when p reached its bound")
	}
}
