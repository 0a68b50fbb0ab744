package oidc

import (
	"crypto/subtle"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/alisw/alilogin/internal/termtext"
)

// callbackPath is where the SSO sends the browser back.
const callbackPath = "/callback"

// callback is the handler of the loopback redirect. Only a request to
// callbackPath that carries this login's state acts: the first one
// exchanges the code, shows the outcome page and reports it; later ones
// get a refusal page. A request with a wrong or missing state is refused
// with 400 and the login keeps waiting, since any web page can make the
// browser send one (an <img> pointing at the loopback port is enough).
type callback struct {
	path   string // the redirect URI's path (callbackPath for the login)
	state  string
	finish func(r *http.Request, code string) error
	done   chan error // receives the outcome once
	// refused is called (once) on the first request with a wrong or
	// missing state; nil: nothing is said.
	refused func()

	mu         sync.Mutex
	used       bool
	refusedOne bool
}

func (cb *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != cb.path {
		http.NotFound(w, r)
		return
	}
	// The state comes first: an error "from the SSO" without it can come
	// from any web page, and its text would reach the terminal.
	st := r.URL.Query().Get("state")
	if st == "" || subtle.ConstantTimeCompare([]byte(st), []byte(cb.state)) != 1 {
		cb.mu.Lock()
		first := !cb.refusedOne
		cb.refusedOne = true
		cb.mu.Unlock()
		if first && cb.refused != nil {
			cb.refused()
		}
		page(w, http.StatusBadRequest, false, "This sign-in link is not from the login waiting in the terminal (wrong or missing state).")
		return
	}
	cb.mu.Lock()
	used := cb.used
	cb.used = true
	cb.mu.Unlock()
	if used {
		page(w, http.StatusBadRequest, false, "This sign-in link was already used. Return to the terminal.")
		return
	}
	err := cb.handle(r)
	if err != nil {
		page(w, http.StatusBadRequest, false, "Sign-in failed: "+err.Error()+". Return to the terminal.")
	} else {
		page(w, http.StatusOK, true, "You are signed in. Return to the terminal; you can close this tab.")
	}
	cb.done <- err
}

// abort ends the login with err and reports true, unless a callback with
// the right state came first (its outcome is the login's).
func (cb *callback) abort(err error) bool {
	cb.mu.Lock()
	used := cb.used
	cb.used = true
	cb.mu.Unlock()
	if !used {
		cb.done <- err
	}
	return !used
}

// handle acts on the callback that carries the right state.
func (cb *callback) handle(r *http.Request) error {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		if d := q.Get("error_description"); d != "" {
			e += ": " + d
		}
		return fmt.Errorf("the SSO refused the sign-in (%s)", termtext.Clean(e))
	}
	code := q.Get("code")
	if code == "" {
		return fmt.Errorf("the callback carries no authorization code")
	}
	return cb.finish(r, code)
}

// The result page, self-contained (no external assets). The message is
// the only text that varies; html.EscapeString makes it text of the
// paragraph (html/template would cost every alilogin command, token
// included, its package's start-up).
const (
	pageHead = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>alilogin</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;margin:15vh auto;max-width:34em;padding:0 1em;color:#222}
h1{font-size:1.4em}.ok{color:#0a6b2d}.fail{color:#b00020}</style></head>
<body>`
	pageOK   = `<h1 class="ok">Signed in</h1>`
	pageFail = `<h1 class="fail">Sign-in failed</h1>`
	pageTail = "</p></body></html>\n"
)

// page writes the self-contained result page (no external assets).
func page(w http.ResponseWriter, status int, ok bool, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	h1 := pageFail
	if ok {
		h1 = pageOK
	}
	msg = strings.ReplaceAll(html.EscapeString(msg), "\x00", "\uFFFD")
	_, _ = io.WriteString(w, pageHead+h1+"\n"+`<p id="message">`+msg+pageTail)
}
