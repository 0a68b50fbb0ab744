package agent

import "net/http"

// Guard decides, before the agent forwards a request with a profile's
// real token, whether it may go (internal/agent/guard: the server
// routes that would hand a real secret back, and the read-only
// allow-lists). Declared here, where it is used.
type Guard interface {
	Check(r *http.Request, server Kind, profile string) Verdict
}

// Verdict is a Guard's answer: Refuse, when not empty, is the reason the
// request is refused (403); Rewrite, when not nil, rewrites the server's
// answer before it goes back (blanking secret fields).
type Verdict struct {
	Refuse  string
	Rewrite func(*http.Response) error
}

// AllowAll lets every request through unchanged: the stand-in until the
// guard is wired, and for tests of the proxy itself.
type AllowAll struct{}

// Check allows r.
func (AllowAll) Check(*http.Request, Kind, string) Verdict { return Verdict{} }
