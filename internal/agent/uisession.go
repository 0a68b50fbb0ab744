package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/peercred"
)

// The web UIs (`alilogin ui nomad|consul`): a browser reaches Nomad's or
// Consul's web UI through the agent's route of that server, under a host
// name of its own (nomad.localhost:PORT, consul.localhost:PORT: Chromium
// and Firefox resolve *.localhost to loopback), signed in by a session
// cookie instead of a gate. The cookie is set by a one-time URL that
// `alilogin ui` asks the agent for on its control socket:
//
//	http://nomad.localhost:PORT/.alilogin/start/ID
//
// ID is random but is not what protects the session: the URL is in the
// argv of the browser, which every local user can read. What does is the
// login's rule (internal/oidc loopback.go): on Linux the route serves
// only connections of the agent's own user (internal/peercred), so
// another user's request never reaches the start URL; elsewhere the
// start URL is served once, and a second request ends the session the
// first one made (the user's own browser then says so). The start URL is
// also only served to a top-level navigation that no web page started
// (Sec-Fetch-Site: none), expires after uiStartTTL, and is used up by its
// first answer.

// uiStartTTL is how long a one-time URL waits for its browser (over SSH
// the user first forwards the port).
const uiStartTTL = 5 * time.Minute

// uiSessionTTL bounds a browser session; logout, and the agent's end,
// end it before.
const uiSessionTTL = 12 * time.Hour

// uiStartPrefix is the path of the one-time URLs; the servers have no
// path under it.
const uiStartPrefix = "/.alilogin/start/"

// uiStart is a one-time URL waiting for its browser.
type uiStart struct {
	profile string
	kind    Kind
	expires time.Time
	used    bool
	session gateKey // the session its first use made
}

// uiSession is a browser's session: the profile whose real token its
// requests get, and the UI (server) it is for.
type uiSession struct {
	profile string
	kind    Kind
	expires time.Time
}

// uiSessions are the agent's one-time URLs and browser sessions, in
// memory only. A session is known by the SHA-256 of its cookie's value,
// so that a lookup compares no secret byte by byte.
type uiSessions struct {
	mu       sync.Mutex
	starts   map[string]*uiStart
	sessions map[gateKey]uiSession
}

func newUISessions() *uiSessions {
	return &uiSessions{starts: map[string]*uiStart{}, sessions: map[gateKey]uiSession{}}
}

// maxUIStarts bounds the one-time URLs waiting (each `alilogin ui` adds
// one); the oldest are dropped beyond.
const maxUIStarts = 1000

// newStart makes a one-time URL's ID for profile's UI of k.
func (u *uiSessions) newStart(profile string, k Kind, now time.Time) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("could not make the one-time URL: %w", err)
	}
	id := hex.EncodeToString(b)
	u.mu.Lock()
	defer u.mu.Unlock()
	for sid, s := range u.starts {
		if now.After(s.expires) || (s.used && len(u.starts) >= maxUIStarts) {
			delete(u.starts, sid)
		}
	}
	if len(u.starts) >= maxUIStarts {
		return "", fmt.Errorf("too many one-time URLs waiting for a browser")
	}
	u.starts[id] = &uiStart{profile: profile, kind: k, expires: now.Add(uiStartTTL)}
	return id, nil
}

// startResult is what the use of a one-time URL gives.
type startResult int

const (
	startOK      startResult = iota
	startUnknown             // no such URL, another UI's, or expired
	startUsed                // used before
)

// useStart uses the one-time URL id of UI k: a new session and its
// cookie value. once: the agent cannot tell who connects (no peer
// check), so a second use ends the session of the first.
func (u *uiSessions) useStart(id string, k Kind, now time.Time, once bool) (string, *uiStart, startResult, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.starts[id]
	if s == nil || s.kind != k || now.After(s.expires) {
		return "", nil, startUnknown, nil
	}
	if s.used {
		if once {
			delete(u.sessions, s.session)
		}
		return "", s, startUsed, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, startUnknown, fmt.Errorf("could not make the session: %w", err)
	}
	val := hex.EncodeToString(b)
	s.used = true
	s.session = keyOf(val)
	u.sessions[s.session] = uiSession{profile: s.profile, kind: k, expires: now.Add(uiSessionTTL)}
	return val, s, startOK, nil
}

// lookup is the live session of cookie value val for UI k.
func (u *uiSessions) lookup(val string, k Kind, now time.Time) (uiSession, bool) {
	if val == "" {
		return uiSession{}, false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	key := keyOf(val)
	s, ok := u.sessions[key]
	if !ok || s.kind != k {
		return uiSession{}, false
	}
	if now.After(s.expires) {
		delete(u.sessions, key)
		return uiSession{}, false
	}
	return s, true
}

// drop ends every session and one-time URL of profile (a logout).
func (u *uiSessions) drop(profile string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, s := range u.sessions {
		if s.profile == profile {
			delete(u.sessions, k)
		}
	}
	for id, s := range u.starts {
		if s.profile == profile {
			delete(u.starts, id)
		}
	}
}

// count is the number of live sessions of profile, for status.
func (u *uiSessions) count(profile string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, s := range u.sessions {
		if s.profile == profile {
			n++
		}
	}
	return n
}

// HasUI reports whether the agent serves k's web UI: Nomad and Consul.
// Vault's route is API only (docs/user-guide.md says why).
func HasUI(k Kind) bool { return k == Nomad || k == Consul }

// UIHost is the host name of k's web UI on the route listening at
// routeHost (127.0.0.1:PORT): nomad.localhost:PORT.
func UIHost(k Kind, routeHost string) string {
	_, port, ok := cutPort(routeHost)
	if !ok || !HasUI(k) {
		return ""
	}
	return string(k) + ".localhost:" + port
}

func cutPort(hostport string) (string, string, bool) {
	for i := len(hostport) - 1; i >= 0; i-- {
		if hostport[i] == ':' {
			return hostport[:i], hostport[i+1:], true
		}
	}
	return "", "", false
}

// uiOpen answers the control request "ui": the profile is loaded (its
// token for the UI's server must be there), and a one-time URL is made.
func (a *Agent) uiOpen(ctx context.Context, req Request) Answer {
	if req.Profile == "" {
		return Answer{Error: "no profile given"}
	}
	if len(req.Kinds) != 1 || !HasUI(req.Kinds[0]) {
		return Answer{Error: "the agent serves the web UIs of nomad and consul only"}
	}
	k := req.Kinds[0]
	a.mu.Lock()
	p := a.profiles[req.Profile]
	if p == nil {
		p = &profile{name: req.Profile, loader: a.o.Loader, now: a.now, env: req.Env}
		a.profiles[req.Profile] = p
	}
	a.mu.Unlock()
	p.mu.Lock()
	p.env = req.Env // the latest opener's configuration
	c, err := p.load(ctx, req.Kinds)
	p.mu.Unlock()
	if err != nil {
		if errors.Is(err, ErrNotLoggedIn) {
			a.drop(req.Profile)
		}
		return Answer{Error: err.Error(), LoginNeeded: errors.Is(err, ErrLoginNeeded) || errors.Is(err, ErrNotLoggedIn)}
	}
	if c.Tokens[k] == nil || c.Servers[k].Addr == "" {
		return Answer{Error: fmt.Sprintf("profile %s has no %s token or no %s address", req.Profile, apiOf(k), apiOf(k))}
	}
	id, err := a.ui.newStart(req.Profile, k, a.now())
	if err != nil {
		return Answer{Error: err.Error()}
	}
	return Answer{URL: "http://" + UIHost(k, a.routes[k]) + uiStartPrefix + id}
}

// uiOnce: where the owner of a connection cannot be looked up, a
// one-time URL is served once (a second use ends the first's session).
func uiOnce() bool { return !peercred.Supported() }
