package guard

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/alisw/alilogin/internal/store"
)

// Server is the server a request goes to: the token vocabulary's
// store.Kind (an alias, not another type).
type Server = store.Kind

// Mounts are the Vault mount paths the secret rules need, as the
// discovery document or the configuration names them ("nomad",
// "consul/", "pki-users"; leading and trailing slashes do not matter).
// An empty Nomad or Consul mount takes the default ("nomad", "consul");
// an empty PKI mount means none.
type Mounts struct {
	Nomad  string
	Consul string
	PKI    string
}

// Rules are what the agent's configuration adds to the fixed secret
// rules for one profile.
type Rules struct {
	// ReadOnly limits the profile to the server's read-only allow-list
	// (ReadOnlyRoutes): the admin's agent { read_only = true } in
	// policies/, or the user's in the config file.
	ReadOnly bool
	// ReadOnlyHint is added to a read-only refusal: what would allow the
	// request, e.g. "profile ci-admin allows it" or "run: alilogin
	// elevate --profile ci". Supplied by the caller, which knows.
	ReadOnlyHint string
	// Attended: the request uses the privileged token of an attended
	// window (an elevated gate): changes of ACLs and identities are
	// refused (OutlivesWindow), since they would keep access after it.
	Attended bool
	// Mounts of Vault's nomad, consul and PKI engines.
	Mounts Mounts
	// MaxRewrite caps the answers that are rewritten (decoded size);
	// larger ones are refused. 0: DefaultMaxRewrite.
	MaxRewrite int64
}

// DefaultMaxRewrite is the cap of a rewritten answer: a token list of
// Nomad or Consul with several thousand tokens fits.
const DefaultMaxRewrite = 8 << 20

// Reason says why a request is refused.
type Reason int

// The reasons of a refusal.
const (
	Allowed   Reason = iota
	BadPath          // the path or method is ambiguous or unknown: 400
	Secret           // the request would hand out a real credential: 403
	ReadOnly         // outside the read-only allow-list: 403
	ACLChange        // an ACL or identity change through an attended window: 403
)

// Decision is Check's answer for one request.
type Decision struct {
	// Refuse, when not empty, is why the request must not be forwarded
	// (for the client: no secret in it).
	Refuse string
	// Reason classifies Refuse; Allowed when Refuse is empty.
	Reason Reason
	// Path is the path the server acts on (decoded, canonical); empty
	// when the path itself was refused.
	Path string
	// Write is true when the request is outside the server's read-only
	// allow-list, whether or not the rules refuse it: the use of an
	// elevated gate (attended elevation) is counted on it.
	Write bool
	// Blank, when not nil, names the fields to blank in the server's
	// answer; RewriteResponse applies it.
	Blank *Blank
	max   int64
}

// Status is the HTTP status of a refusal: 400 for a refused path, 403
// otherwise; 0 when the request is allowed.
func (d Decision) Status() int {
	switch d.Reason {
	case Allowed:
		return 0
	case BadPath:
		return http.StatusBadRequest
	default:
		return http.StatusForbidden
	}
}

// Check decides whether r, a client's request to server, may be
// forwarded with the profile's real token, and whether its answer must be
// rewritten. It reads only r's method, URL and headers, never the body.
func Check(server store.Kind, r *http.Request, rules Rules) Decision {
	max := rules.MaxRewrite
	if max <= 0 {
		max = DefaultMaxRewrite
	}
	if r == nil || r.URL == nil {
		return Decision{Refuse: "refused: no request", Reason: BadPath}
	}
	if !knownMethod(server, r.Method) {
		return Decision{Refuse: fmt.Sprintf("refused: method %q is not one %s serves", r.Method, server), Reason: BadPath}
	}
	p, err := canonicalPath(r.URL)
	if err != nil {
		return Decision{Refuse: "refused: " + err.Error(), Reason: BadPath}
	}
	var sec secretRule
	switch server {
	case store.Vault:
		sec = vaultSecret(r, p, rules.Mounts)
	case store.Nomad:
		sec = nomadSecret(r.Method, p)
	case store.Consul:
		sec = consulSecret(r.Method, p)
	default:
		return Decision{Refuse: fmt.Sprintf("refused: unknown server %q", server), Reason: BadPath}
	}
	write := !readAllowed(server, r.Method, p)
	d := Decision{Path: p, Write: write, Blank: sec.blank, max: max}
	switch {
	case sec.refuse != "":
		d.Refuse, d.Reason, d.Blank = "refused: "+sec.refuse, Secret, nil
	case rules.Attended && write && OutlivesWindow(server, r.Method, p):
		d.Refuse = fmt.Sprintf("refused: %s %s changes ACLs or identities of %s, a change that would outlive the attended window; use an admin token for ACL work", r.Method, p, server)
		d.Reason, d.Blank = ACLChange, nil
	case rules.ReadOnly && write:
		d.Refuse = fmt.Sprintf("refused: %s %s is not in the read-only routes of %s", r.Method, p, server)
		if h := strings.TrimSpace(rules.ReadOnlyHint); h != "" {
			d.Refuse += "; " + h
		}
		d.Reason, d.Blank = ReadOnly, nil
	}
	return d
}

// knownMethod: the methods each server routes. Vault 1.13 also has LIST
// (http/logical.go; OPTIONS and HEAD are answered by the CORS layer or
// not at all). None of the three honours X-HTTP-Method-Override (no such
// header in their http packages), so the method on the wire is the
// operation. OPTIONS is refused: the agent offers no CORS.
func knownMethod(server store.Kind, m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete:
		return true
	case http.MethodPatch, "LIST":
		return server == store.Vault
	}
	return false
}
