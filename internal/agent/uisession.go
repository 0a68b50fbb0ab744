package agent

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/peercred"
)

// The web UIs (`alilogin ui nomad|consul`): a browser reaches Nomad's or
// Consul's web UI through the agent's route of that server, signed in by
// a session cookie instead of a gate, under a host name of the session's
// own (Chromium and Firefox resolve *.localhost to loopback).
//
// `alilogin ui` asks the agent, on its control socket, for a one-time URL
// on the UI's plain host name:
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
//
// Its answer makes the session and sends the browser, by a redirect that
// is in no argv, to the session's own host name:
//
//	http://nomad-LABEL.localhost:PORT/.alilogin/enter
//
// LABEL is 128 random bits (base32, lowercase). That first navigation
// gets the cookie, host-only on that name; every later request of the
// session must name that host, and a host name that is no live
// session's is refused. Cookies ignore ports: a cookie of
// nomad.localhost would go to every port of nomad.localhost, where any
// local user may listen, and a page there is same-site with the UI. A
// page on another port cannot name the session's host without its label,
// and no cookie of the UI is ever set on the plain host name.

// uiStartTTL is how long a one-time URL waits for its browser (over SSH
// the user first forwards the port).
const uiStartTTL = 5 * time.Minute

// uiEnterTTL is how long the redirect to the session's host name waits
// for its navigation (it follows at once).
const uiEnterTTL = time.Minute

// uiSessionTTL bounds a browser session; logout, and the agent's end,
// end it before.
const uiSessionTTL = 12 * time.Hour

// uiStartPrefix is the path of the one-time URLs, uiEnterPath that of
// the session's first navigation; the servers have no path under
// /.alilogin/.
const (
	uiStartPrefix = "/.alilogin/start/"
	uiEnterPath   = "/.alilogin/enter"
)

// uiStart is a one-time URL waiting for its browser.
type uiStart struct {
	profile string
	kind    Kind
	expires time.Time
	used    bool
	session *uiSession // the session its first use made
}

// uiSession is a browser's session: the profile whose real token its
// requests get, the UI (server) it is for, its host label and its
// cookie's SHA-256, and the requests it has in flight.
type uiSession struct {
	profile string
	kind    Kind
	label   string
	started time.Time
	expires time.Time
	enterBy time.Time

	mu       sync.Mutex // guards the fields below
	cookie   gateKey    // zero until entered
	entered  bool
	ended    bool
	lastUse  time.Time
	requests int64
	inflight inflight
}

// uiSessions are the agent's one-time URLs and browser sessions, in
// memory only. A session is found by the SHA-256 of its host label, and
// its cookie is compared by SHA-256 in constant time, so that no lookup
// compares a secret byte by byte.
type uiSessions struct {
	mu       sync.Mutex
	starts   map[string]*uiStart
	sessions map[gateKey]*uiSession // by keyOf(label)
}

func newUISessions() *uiSessions {
	return &uiSessions{starts: map[string]*uiStart{}, sessions: map[gateKey]*uiSession{}}
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

// labelEncoding writes a session's host label: lowercase base32, no
// padding (a DNS label; Chromium lowercases host names).
var labelEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// labelLen is the length of a label: 128 bits in base32.
const labelLen = 26

// useStart uses the one-time URL id of UI k: a new session, which the
// browser enters at its own host name. once: the agent cannot tell who
// connects (no peer check), so a second use ends the session of the
// first, and its requests in flight.
func (u *uiSessions) useStart(id string, k Kind, now time.Time, once bool) (*uiSession, *uiStart, startResult, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.starts[id]
	if s == nil || s.kind != k || now.After(s.expires) {
		return nil, nil, startUnknown, nil
	}
	if s.used {
		if once && s.session != nil {
			u.endLocked(s.session)
		}
		return nil, s, startUsed, nil
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, nil, startUnknown, fmt.Errorf("could not make the session: %w", err)
	}
	label := labelEncoding.EncodeToString(b)
	u.pruneLocked(now)
	s.used = true
	s.session = &uiSession{profile: s.profile, kind: k, label: label, started: now, expires: now.Add(uiSessionTTL), enterBy: now.Add(uiEnterTTL)}
	u.sessions[keyOf(label)] = s.session
	return s.session, s, startOK, nil
}

// byLabel is the live session of UI k with host label label.
func (u *uiSessions) byLabel(label string, k Kind, now time.Time) (*uiSession, bool) {
	if len(label) != labelLen {
		return nil, false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	key := keyOf(label)
	s, ok := u.sessions[key]
	if !ok || s.kind != k {
		return nil, false
	}
	if now.After(s.expires) {
		u.endLocked(s)
		return nil, false
	}
	return s, true
}

// enter gives s its cookie's value, once, within uiEnterTTL of the
// start.
func (s *uiSession) enter(now time.Time) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entered || s.ended || now.After(s.enterBy) {
		return "", false, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", false, fmt.Errorf("could not make the session: %w", err)
	}
	val := hex.EncodeToString(b)
	s.entered, s.cookie = true, keyOf(val)
	return val, true, nil
}

// signedIn: one of the cookie values vals (a browser may send more than
// one cookie of the name) is s's; the use is counted.
func (s *uiSession) signedIn(vals []string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.entered || s.ended {
		return false
	}
	ok := 0
	for _, v := range vals {
		k := keyOf(v)
		ok |= subtle.ConstantTimeCompare(k[:], s.cookie[:])
	}
	if ok != 1 {
		return false
	}
	s.lastUse = now
	s.requests++
	return true
}

// track gives a request of s a context that the session's end cancels,
// and the function that forgets it once served; ok false when s has
// ended.
func (s *uiSession) track(ctx context.Context) (context.Context, func(), bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight.trackLocked(ctx, &s.mu, s.ended)
}

// endLocked ends s: it is forgotten, and its requests in flight (log
// streams, exec websockets, blocking queries) are cancelled; the
// sessions of other browsers, of the same profile too, go on. u.mu is
// held.
func (u *uiSessions) endLocked(s *uiSession) {
	delete(u.sessions, keyOf(s.label))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	s.inflight.cancelAll()
}

// pruneLocked ends the sessions past their time, and those whose
// browser never came to their host name in time. u.mu is held.
func (u *uiSessions) pruneLocked(now time.Time) {
	for _, s := range u.sessions {
		s.mu.Lock()
		stale := now.After(s.expires) || (!s.entered && now.After(s.enterBy))
		s.mu.Unlock()
		if stale {
			u.endLocked(s)
		}
	}
}

// drop ends every session and one-time URL of profile (a logout).
func (u *uiSessions) drop(profile string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, s := range u.sessions {
		if s.profile == profile {
			u.endLocked(s)
		}
	}
	for id, s := range u.starts {
		if s.profile == profile {
			delete(u.starts, id)
		}
	}
}

// list is the live sessions, for status: no label, no cookie.
func (u *uiSessions) list(now time.Time) []UISessionStatus {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []UISessionStatus
	for _, s := range u.sessions {
		if now.After(s.expires) {
			continue
		}
		s.mu.Lock()
		st := UISessionStatus{Server: s.kind, Profile: s.profile, Started: s.started, Requests: s.requests, Entered: s.entered}
		if !s.lastUse.IsZero() {
			st.LastUse = s.lastUse
		}
		s.mu.Unlock()
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
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

// sessionHost is the host name of the browser session with label on
// k's route at routeHost: nomad-LABEL.localhost:PORT.
func sessionHost(k Kind, label, routeHost string) string {
	_, port, _ := cutPort(routeHost)
	return string(k) + "-" + label + ".localhost:" + port
}

// hostLabel is the session label that host (a request's Host) names on
// k's route at routeHost, ok false when host is no session's host name
// of this route.
func hostLabel(k Kind, host, routeHost string) (string, bool) {
	_, port, ok := cutPort(routeHost)
	if !ok {
		return "", false
	}
	host = strings.ToLower(host)
	label, ok := strings.CutSuffix(host, ".localhost:"+port)
	if !ok {
		return "", false
	}
	label, ok = strings.CutPrefix(label, string(k)+"-")
	if !ok || len(label) != labelLen {
		return "", false
	}
	for _, c := range label {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return "", false
		}
	}
	return label, true
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
	_, c, err := a.loadProfile(ctx, req)
	if err != nil {
		if errors.Is(err, ErrNotLoggedIn) {
			a.drop(req.Profile)
		}
		return Answer{Error: err.Error(), LoginNeeded: errors.Is(err, ErrLoginNeeded) || errors.Is(err, ErrNotLoggedIn)}
	}
	if c.Tokens[k] == nil || c.Servers[k].Addr == "" {
		return Answer{Error: fmt.Sprintf("profile %s has no %s token or no %s address", req.Profile, k.Title(), k.Title())}
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
