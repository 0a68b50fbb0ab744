package agent

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"sync"
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
	// Serial orders gates by issue, for evicting the oldest.
	Serial uint64
}

// maxGates bounds the table: beyond it the oldest gate is forgotten
// (every `exec --agent` and each hook refresh issues new ones).
const maxGates = 20000

// gates is the table of live gates.
type gates struct {
	mu     sync.Mutex
	m      map[gateKey]gateEntry
	serial uint64
	issued map[string]int // per profile, since it was opened
}

func newGates() *gates { return &gates{m: map[gateKey]gateEntry{}, issued: map[string]int{}} }

// issue makes a gate for profile's server s.
func (g *gates) issue(profile string, s Kind) (string, error) {
	gate, err := newGate()
	if err != nil {
		return "", err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.m) >= maxGates {
		g.evictOldest()
	}
	g.serial++
	g.m[keyOf(gate)] = gateEntry{Profile: profile, Server: s, Serial: g.serial}
	g.issued[profile]++
	return gate, nil
}

func (g *gates) evictOldest() {
	var oldest gateKey
	min := ^uint64(0)
	for k, e := range g.m {
		if e.Serial < min {
			oldest, min = k, e.Serial
		}
	}
	delete(g.m, oldest)
}

// lookup is what gate stands for.
func (g *gates) lookup(gate string) (gateEntry, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e, ok := g.m[keyOf(gate)]
	return e, ok
}

// drop forgets every gate of profile.
func (g *gates) drop(profile string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, e := range g.m {
		if e.Profile == profile {
			delete(g.m, k)
		}
	}
	delete(g.issued, profile)
}

// count is the number of gates issued for profile since it was opened.
func (g *gates) count(profile string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.issued[profile]
}
