package agent

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"
)

// ErrUnsupported: the agent needs the peer credentials of a UNIX socket
// (Linux, macOS).
var ErrUnsupported = fmt.Errorf("the alilogin agent is not supported on this system")

// A gate is what a tool sends where it would send the real token: a
// random version-4 UUID (122 random bits from crypto/rand), the shape
// the nomad and consul CLIs and tools expect of a token. It is derived
// from nothing: not from the real token, not from the profile. What it
// stands for (profile, server, this agent instance) is in the agent's
// memory only, keyed by the gate's SHA-256, so that looking a gate up
// does not compare the gate itself byte by byte.
func newGate() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("could not make a gate: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// gateKey is the table's key for a gate.
type gateKey [sha256.Size]byte

func keyOf(gate string) gateKey { return sha256.Sum256([]byte(gate)) }

// gateEntry is what a gate stands for.
type gateEntry struct {
	Profile string
	Server  Kind
	// Window is the attended window an elevated gate belongs to
	// (elevated.go); 0: an ordinary gate.
	Window uint64
	// Used is when the gate was issued or last let a request in: a gate
	// idle for gateIdle dies, and the least recently used go first when
	// a bound is reached.
	Used time.Time
}

// Gates do not live for ever: every `exec --agent` and each hook refresh
// (hourly, and whenever the agent's gates changed) issues new ones, and
// the old ones stay in the environments of the processes that got them.
// A gate that let no request in for gateIdle dies (a hook's shell gets
// new gates at its next prompt); a profile holds at most
// maxGatesPerProfile, the table maxGates, the least recently used
// forgotten beyond.
const (
	gateIdle           = 24 * time.Hour
	maxGatesPerProfile = 2000
	maxGates           = 20000
)

// gates is the table of live gates.
type gates struct {
	now    func() time.Time
	mu     sync.Mutex
	m      map[gateKey]gateEntry
	issued map[string]int // per profile, since it was opened
	live   map[string]int // per profile, in the table now
}

func newGates(now func() time.Time) *gates {
	return &gates{now: now, m: map[gateKey]gateEntry{}, issued: map[string]int{}, live: map[string]int{}}
}

// issue makes a gate for profile's server s.
func (g *gates) issue(profile string, s Kind) (string, error) {
	return g.issueElevated(profile, s, 0)
}

// issueElevated makes a gate for profile's server s in the attended
// window win (0: an ordinary gate).
func (g *gates) issueElevated(profile string, s Kind, win uint64) (string, error) {
	gate, err := newGate()
	if err != nil {
		return "", err
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.live[profile] >= maxGatesPerProfile || len(g.m) >= maxGates {
		g.expire(now)
	}
	if g.live[profile] >= maxGatesPerProfile {
		g.evictLeastUsed(func(e gateEntry) bool { return e.Profile == profile })
	}
	if len(g.m) >= maxGates {
		g.evictLeastUsed(func(gateEntry) bool { return true })
	}
	g.m[keyOf(gate)] = gateEntry{Profile: profile, Server: s, Window: win, Used: now}
	g.issued[profile]++
	g.live[profile]++
	return gate, nil
}

// expire forgets the gates idle for gateIdle.
func (g *gates) expire(now time.Time) {
	for k, e := range g.m {
		if now.Sub(e.Used) >= gateIdle {
			g.remove(k, e)
		}
	}
}

func (g *gates) remove(k gateKey, e gateEntry) {
	delete(g.m, k)
	if g.live[e.Profile]--; g.live[e.Profile] <= 0 {
		delete(g.live, e.Profile)
	}
}

// evictLeastUsed forgets the least recently used gate of those which.
func (g *gates) evictLeastUsed(which func(gateEntry) bool) {
	var oldest gateKey
	var used time.Time
	found := false
	for k, e := range g.m {
		if which(e) && (!found || e.Used.Before(used)) {
			oldest, used, found = k, e.Used, true
		}
	}
	if found {
		g.remove(oldest, g.m[oldest])
	}
}

// lookup is what gate stands for, when it is live; a live gate's use is
// recorded.
func (g *gates) lookup(gate string) (gateEntry, bool) {
	now := g.now()
	k := keyOf(gate)
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.m[k]
	if !ok {
		return gateEntry{}, false
	}
	if now.Sub(e.Used) >= gateIdle {
		g.remove(k, e)
		return gateEntry{}, false
	}
	if now.After(e.Used) {
		e.Used = now
		g.m[k] = e
	}
	return e, true
}

// drop forgets every gate of profile.
func (g *gates) drop(profile string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, e := range g.m {
		if e.Profile == profile {
			g.remove(k, e)
		}
	}
	delete(g.issued, profile)
}

// dropWindow forgets the elevated gates of profile's window win.
func (g *gates) dropWindow(profile string, win uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, e := range g.m {
		if e.Profile == profile && e.Window == win {
			g.remove(k, e)
		}
	}
}

// count is the number of gates issued for profile since it was opened.
func (g *gates) count(profile string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.issued[profile]
}
