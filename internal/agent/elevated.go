package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// An attended window (alilogin elevate, internal/elevate): the
// privileged tokens of a profile's attended tier, in this memory only
// (never the store, a file, an environment or an answer), reached
// through elevated gates, the only ones whose writes the agent lets
// through for a profile with an attended tier. A write (a request
// outside the read-only allow-list: guard.Decision.Write) is one use of
// the budget. The window ends at its time, when its budget is spent, at
// `elevate --end`, at a logout and when the agent stops: its Vault
// token is revoked (with it the Nomad and Consul leases), its gates die
// and the requests opened with them are cut.

// Elevation is what `alilogin elevate` hands to the agent: the
// privileged tokens, the window's end and its use budget. Its tokens
// travel in clear on the control socket only (WireToken).
type Elevation struct {
	Tokens []WireToken `json:"tokens"`
	Until  time.Time   `json:"until"`
	Uses   int         `json:"uses,omitempty"` // 0: no budget
}

// WireToken is a token on the control socket. Its Secret is a plain
// string on purpose (a secret.String would marshal as [REDACTED]); it is
// never logged, and turned into a secret.String on receipt.
type WireToken struct {
	Server    Kind      `json:"server"`
	Secret    string    `json:"secret"`
	Accessor  string    `json:"accessor,omitempty"`
	LeaseID   string    `json:"lease_id,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Wire is t on the control socket.
func Wire(k Kind, t *store.Token) WireToken {
	return WireToken{Server: k, Secret: t.Secret.Reveal(), Accessor: t.Accessor, LeaseID: t.LeaseID, ExpiresAt: t.ExpiresAt}
}

// WindowStatus is an open window in status: its end and what is left of
// its budget.
type WindowStatus struct {
	Until time.Time `json:"until"`
	Uses  int       `json:"uses,omitempty"` // the budget, 0: none
	Used  int       `json:"used"`
	Left  int       `json:"left,omitempty"` // uses left when there is a budget
	Kinds []Kind    `json:"servers"`
}

var windowIDs atomic.Uint64

// window is one profile's attended window.
type window struct {
	id     uint64
	tokens map[Kind]*store.Token
	// ups are the profile's servers when the window opened (address,
	// TLS, the transport with the login's client certificate): its
	// privileged tokens go there only, whatever a later open loads.
	ups    map[Kind]*upstream
	until  time.Time
	budget int
	revoke func(context.Context) error

	mu       sync.Mutex
	used     int
	ended    bool
	timer    *time.Timer
	inflight inflight
}

// take counts a write: ok false when the budget is spent; last true when
// this write spends it (the window ends after it).
func (w *window) take() (ok, last bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended || w.budget > 0 && w.used >= w.budget {
		return false, false
	}
	w.used++
	return true, w.budget > 0 && w.used >= w.budget
}

// track gives a request a context that the window's end cancels.
func (w *window) track(ctx context.Context) (context.Context, func(), bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.inflight.trackLocked(ctx, &w.mu, w.ended)
}

// end marks w ended and cuts its requests; false when it was already.
func (w *window) end() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return false
	}
	w.ended = true
	if w.timer != nil {
		w.timer.Stop()
	}
	w.inflight.cancelAll()
	return true
}

func (w *window) status() *WindowStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := &WindowStatus{Until: w.until, Uses: w.budget, Used: w.used}
	if w.budget > 0 {
		s.Left = w.budget - w.used
	}
	for _, k := range Kinds {
		if w.tokens[k] != nil {
			s.Kinds = append(s.Kinds, k)
		}
	}
	return s
}

// elevate opens the window of req.Elevation for req.Profile (loading the
// profile as open does: its servers and certificate), ending the window
// it had, and issues an elevated gate for each privileged token.
func (a *Agent) elevate(ctx context.Context, req Request) Answer {
	e := req.Elevation
	if e == nil || len(e.Tokens) == 0 {
		return Answer{Error: "no elevation given"}
	}
	toks := map[Kind]*store.Token{}
	for _, t := range e.Tokens {
		if _, ok := toks[t.Server]; ok || (t.Server != Vault && t.Server != Nomad && t.Server != Consul) || t.Secret == "" {
			return Answer{Error: "invalid elevation: a token for an unknown server, twice, or empty"}
		}
		toks[t.Server] = &store.Token{Secret: secret.New(t.Secret), Accessor: t.Accessor, LeaseID: t.LeaseID, ExpiresAt: t.ExpiresAt}
	}
	vt := toks[Vault]
	if vt == nil {
		return Answer{Error: "invalid elevation: no Vault token"}
	}
	ans := a.open(ctx, Request{Op: "open", Profile: req.Profile, Env: req.Env})
	p := a.profile(req.Profile)
	if ans.Error != "" || p == nil {
		if ans.Error == "" {
			ans.Error = "the profile was dropped while it was opened"
		}
		// The window cannot open: its tokens go now.
		a.revokeWith(req.Profile, vt.Secret, p)
		return Answer{Error: ans.Error, LoginNeeded: ans.LoginNeeded}
	}
	c := p.creds.Load()
	if c == nil {
		a.revokeWith(req.Profile, vt.Secret, p)
		return Answer{Error: "the profile was dropped while it was opened"}
	}
	vconf := c.Servers[Vault]
	ups := map[Kind]*upstream{}
	for k := range toks {
		if u := p.upstream(k); u != nil && u.conf == c.Servers[k] {
			ups[k] = u
		}
	}
	w := &window{id: windowIDs.Add(1), tokens: toks, ups: ups, until: e.Until, budget: e.Uses,
		revoke: func(ctx context.Context) error { return revokeVault(ctx, vconf, vt.Secret) }}
	if old := p.setWindow(w); old != nil {
		a.endWindow(p, old, "a new window replaced it")
	}
	left := e.Until.Sub(a.now())
	if left <= 0 {
		a.endWindow(p, w, "it ended before it opened")
		return Answer{Error: "the window ended before the agent had it"}
	}
	w.mu.Lock()
	w.timer = time.AfterFunc(left, func() { a.endWindow(p, w, "its time is up") })
	w.mu.Unlock()
	a.logf("profile %s: attended window open until %s (%s)", req.Profile, e.Until.Format(time.RFC3339), budgetText(e.Uses))
	return a.elevatedGates(req.Profile, req.Kinds)
}

// elevatedGates issues elevated gates for the open window of profile (the
// servers of kinds it has; all when empty).
func (a *Agent) elevatedGates(profile string, kinds []Kind) Answer {
	p := a.profile(profile)
	var w *window
	if p != nil {
		w = p.currentWindow()
	}
	if w == nil {
		return Answer{Error: fmt.Sprintf("no attended window is open for profile %s; run: alilogin elevate --profile %s", profile, profile)}
	}
	if len(kinds) == 0 {
		kinds = Kinds
	}
	c := p.creds.Load()
	ans := Answer{Window: w.status()}
	for _, k := range kinds {
		if w.tokens[k] == nil || w.ups[k] == nil || c == nil || c.Servers[k].Addr == "" {
			continue
		}
		g, err := a.gates.issueElevated(profile, k, w.id)
		if err != nil {
			return Answer{Error: err.Error()}
		}
		ans.Gates = append(ans.Gates, Gate{Server: k, Addr: "http://" + a.routes[k], Gate: g})
	}
	if len(ans.Gates) == 0 {
		return Answer{Error: fmt.Sprintf("the attended window of profile %s has no token for the servers asked for", profile)}
	}
	return ans
}

// endOp is `elevate --end`: the window of req.Profile ends now.
func (a *Agent) endOp(req Request) Answer {
	p := a.profile(req.Profile)
	if p == nil || p.currentWindow() == nil {
		return Answer{}
	}
	if w := p.currentWindow(); w != nil {
		a.endWindow(p, w, "elevate --end")
		return Answer{Window: w.status()}
	}
	return Answer{}
}

// endWindow ends w, profile p's window: its gates die, its requests are
// cut, its Vault token is revoked (and with it the Nomad and Consul
// tokens minted under it).
func (a *Agent) endWindow(p *profile, w *window, why string) {
	if !w.end() {
		return
	}
	p.clearWindow(w)
	a.gates.dropWindow(p.name, w.id)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.revoke(ctx); err != nil {
		a.logf("warning: profile %s: attended window ended (%s), but its Vault token could not be revoked: %v; it expires at %s", p.name, why, err, w.until.Format(time.RFC3339))
		return
	}
	a.logf("profile %s: attended window ended (%s); its tokens are revoked", p.name, why)
}

// revokeWith revokes a privileged Vault token that never became a
// window, with the servers of the profile when it is open, else logs.
func (a *Agent) revokeWith(name string, tok secret.String, p *profile) {
	var c *Creds
	if p != nil {
		c = p.creds.Load()
	}
	if c == nil {
		a.logf("warning: profile %s: a privileged token handed over could not be revoked (the profile is not open); it expires at the window's end", name)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := revokeVault(ctx, c.Servers[Vault], tok); err != nil {
		a.logf("warning: profile %s: could not revoke a privileged token handed over: %v", name, err)
	}
}

// revokeVault revokes tok at the Vault of u.
func revokeVault(ctx context.Context, u Upstream, tok secret.String) error {
	if u.Addr == "" {
		return errors.New("no Vault address")
	}
	vc, err := apiclient.For(apiclient.Vault, u.Addr, u.TLS)
	if err != nil {
		return err
	}
	return issue.Revoke(ctx, vc.WithToken(tok))
}

func budgetText(uses int) string {
	if uses <= 0 {
		return "no use budget"
	}
	return fmt.Sprintf("%d writes", uses)
}

// setWindow makes w p's window and returns the one it replaces.
func (p *profile) setWindow(w *window) *window {
	p.winMu.Lock()
	defer p.winMu.Unlock()
	old := p.win
	p.win = w
	return old
}

// currentWindow is p's open window, nil when none.
func (p *profile) currentWindow() *window {
	p.winMu.Lock()
	defer p.winMu.Unlock()
	return p.win
}

// clearWindow forgets w if it is still p's window.
func (p *profile) clearWindow(w *window) {
	p.winMu.Lock()
	defer p.winMu.Unlock()
	if p.win == w {
		p.win = nil
	}
}
