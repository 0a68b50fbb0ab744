package oidc

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/alisw/alilogin/internal/peercred"
)

// startPath is the path of the start URL, the one URL the system browser
// is given: http://127.0.0.1:PORT/start. It carries no secret, so the
// argv of xdg-open and of the browser (world-readable in
// /proc/<pid>/cmdline) tells another user nothing; the browser learns the
// authorization URL, with state, nonce and PKCE challenge, from the
// redirect.
const startPath = "/start"

// errStartTwice ends a login whose start URL was asked for twice where
// the owner of a connection cannot be looked up (macOS): someone else may
// have had the first answer, and with it the state.
var errStartTwice error = &endedError{"the sign-in link was opened twice (a reload, or another program or user of this computer); the login was stopped so that nobody else can finish it"}

// loopback is the handler of the login's loopback listener. Every request
// must name the listener's own address in Host (a DNS-rebinding page does
// not), and where the system can tell (Linux) come from a socket of the
// user who runs alilogin: another local user who reaches the port gets
// 403, whatever the path and the state. Then the start URL redirects to
// the authorization URL and the callback takes the SSO's answer.
type loopback struct {
	addr      string // host:port bound
	uid       uint32 // the user's
	peerCheck bool   // look the owner of each connection up (Linux)
	start     *start // nil: no start URL (--no-browser)
	cb        *callback
	stderr    io.Writer
	commands  SignInCommands

	mu                    sync.Mutex
	saidOther, saidFailed bool
}

// handler is lp behind the peer check where there is one.
func (lp *loopback) handler() http.Handler {
	if !lp.peerCheck {
		return lp
	}
	return peercred.OnlyUser(lp.uid, lp, lp.refuse)
}

func (lp *loopback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !sameHostPort(r.Host, lp.addr) {
		page(w, http.StatusMisdirectedRequest, false, "This is not the address the login waiting in the terminal listens on.")
		return
	}
	switch {
	case r.URL.Path == startPath && lp.start != nil:
		lp.start.ServeHTTP(w, r)
	case r.URL.Path == lp.cb.path:
		lp.cb.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// refuse answers a request from another user, or from a connection whose
// owner could not be found (fail closed), and says so on stderr once of
// each kind; the login keeps waiting.
func (lp *loopback) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var other *peercred.OtherUserError
	isOther := errors.As(err, &other)
	lp.mu.Lock()
	say := (isOther && !lp.saidOther) || (!isOther && !lp.saidFailed)
	if isOther {
		lp.saidOther = true
	} else {
		lp.saidFailed = true
	}
	lp.mu.Unlock()
	if isOther {
		if say {
			fmt.Fprintf(lp.stderr, "\n(refused a request from another user of this computer (uid %d) to this login's loopback port; still waiting)\n", other.UID)
		}
		page(w, http.StatusForbidden, false, "This sign-in belongs to another user of this computer: only the user who started the login can finish it.")
		return
	}
	if say {
		hint := ""
		if lp.commands.Device != "" {
			hint = "; if it was your own browser, use " + lp.commands.Device
		}
		fmt.Fprintf(lp.stderr, "\n(refused a request to this login's loopback port: %v; still waiting%s)\n", err, hint)
	}
	page(w, http.StatusForbidden, false, "This request was refused: the login could not tell which user of this computer sent it.")
}

// sameHostPort reports whether the Host header host names addr
// (host:port, as bound); a Host without a port means port 80.
func sameHostPort(host, addr string) bool {
	h, p, err := net.SplitHostPort(host)
	if err != nil {
		h, p = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), "80"
	}
	ah, ap, err := net.SplitHostPort(addr)
	return err == nil && strings.EqualFold(h, ah) && p == ap
}

// start is the handler of the start URL: a redirect to the authorization
// URL, not cached, not sent on as a referrer. Only a top-level navigation
// that no web page started (no Sec-Fetch-Site, or "none") gets it, so an
// <img> on some page cannot use it up. With the peer check every request
// of the user gets it (a reload works). Without (macOS) it is served once:
// a second request ends the login rather than hand the state out twice.
type start struct {
	authURL string
	once    bool
	abort   func(error) bool // ends the login unless its callback came
	again   string           // what the user runs to sign in again ("": not said)

	mu     sync.Mutex
	served bool
}

func (s *start) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		page(w, http.StatusMethodNotAllowed, false, "Open this link in the browser.")
		return
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "none" {
		page(w, http.StatusForbidden, false, "Open this link from the terminal, not from a web page.")
		return
	}
	if s.once {
		s.mu.Lock()
		served := s.served
		s.served = true
		s.mu.Unlock()
		if served {
			if s.abort(errStartTwice) {
				msg := "This sign-in link was opened twice, so the login was stopped."
				if s.again != "" {
					msg += " Run " + s.again + " again."
				}
				page(w, http.StatusGone, false, msg)
			} else {
				page(w, http.StatusGone, false, "This sign-in link was already used. Return to the terminal.")
			}
			return
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Location", s.authURL)
	w.WriteHeader(http.StatusFound)
}
