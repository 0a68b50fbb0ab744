package agent

import (
	"net/http"

	"github.com/alisw/alilogin/internal/agent/guard"
)

// Guard decides, before the agent forwards a request with a profile's
// real token, whether it may go: the server routes that would hand a
// real secret back, and the read-only allow-lists (internal/agent/guard).
// Declared here, where it is used, so that the proxy's own tests can
// give AllowAll.
type Guard interface {
	Check(r *http.Request, server Kind, c *Creds) Verdict
}

// Verdict is a Guard's answer: Refuse, when not empty, is the reason the
// request is refused, with Status; Rewrite, when not nil, rewrites the
// server's answer before it goes back (blanking secret fields).
type Verdict struct {
	Refuse  string
	Status  int
	Rewrite func(*http.Response) error
	// Write: the request is outside the read-only allow-list (one use of
	// an attended window's budget).
	Write bool
}

// Rules is the Guard of internal/agent/guard, with each profile's Rules.
type Rules struct{}

// Check applies guard.Check.
func (Rules) Check(r *http.Request, server Kind, c *Creds) Verdict {
	d := guard.Check(guard.Server(server), r, c.Rules)
	if d.Refuse != "" {
		return Verdict{Refuse: d.Refuse, Status: d.Status(), Write: d.Write}
	}
	if d.Blank != nil {
		return Verdict{Rewrite: d.RewriteResponse, Write: d.Write}
	}
	return Verdict{Write: d.Write}
}

// AllowAll lets every request through unchanged: for tests of the proxy
// itself.
type AllowAll struct{}

// Check allows r.
func (AllowAll) Check(*http.Request, Kind, *Creds) Verdict { return Verdict{} }
