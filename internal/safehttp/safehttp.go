package safehttp

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/termtext"
)

// MaxSSO bounds each answer of an SSO and of a broker's discovery
// endpoint: their documents, keys and token answers are a few KiB.
const MaxSSO = 1 << 20

// maxRedirects is how many same-origin redirects are followed.
const maxRedirects = 10

// Origin returns scheme://host:port of u, lower case, with the default
// port of the scheme made explicit, so that https://h and https://h:443
// are the same origin.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// RedirectError is a refused redirect to another origin.
type RedirectError struct {
	Status   int    // the redirect's status, e.g. 307
	From, To string // origins
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("refused a redirect (%d) from %s to %s: redirects are followed only within the same scheme, host and port; check the configured address",
		e.Status, termtext.Clean(e.From), termtext.Clean(e.To))
}

// CheckRedirect is an http.Client CheckRedirect that follows a redirect
// only to the origin of the first request, and refuses any other with a
// *RedirectError (https to http included: the scheme is part of the
// origin). Nothing is sent to the other origin: the client calls it before
// it sends the next request.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) == 0 {
		return nil
	}
	from, to := Origin(via[0].URL), Origin(req.URL)
	if from != to {
		status := 0
		if req.Response != nil {
			status = req.Response.StatusCode
		}
		return &RedirectError{Status: status, From: from, To: to}
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	return nil
}

// TooLargeError is an answer over the bound.
type TooLargeError struct {
	Limit int64 // bytes
}

func (e *TooLargeError) Error() string {
	return "the answer is larger than " + size(e.Limit)
}

func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadAll reads r to its end, at most limit bytes; more is a
// *TooLargeError (and reading stops one byte after the bound).
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	return data, nil
}

// ReadBody reads resp's body as ReadAll does; a body whose declared
// length is over limit is a *TooLargeError before anything is read.
func ReadBody(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	return ReadAll(resp.Body, limit)
}

// LimitBodies wraps next (nil: NewTransport()) so that each answer
// is read whole, up to limit bytes, before the round trip returns; a
// larger one fails the round trip with a *TooLargeError. For clients whose
// answers are small and read by libraries (go-oidc, x/oauth2) that do not
// bound them, or bound them by cutting silently.
func LimitBodies(next http.RoundTripper, limit int64) http.RoundTripper {
	if next == nil {
		next = NewTransport()
	}
	return &limitTransport{next: next, limit: limit}
}

type limitTransport struct {
	next  http.RoundTripper
	limit int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := ReadBody(resp, t.limit)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))
	return resp, nil
}

// HTTP1 makes tr speak HTTP/1.1 only, and returns it. Go's HTTP/2 code
// reads GODEBUG at start-up: with http2debug=1 it prints every header it
// sends (X-Vault-Token, Authorization) to stderr, with http2debug=2 every
// frame (the body of a refresh grant, the tokens in the answer), where a
// cron job's or a CI system's log keeps them. The HTTP/1.1 code has no
// such log, so no debug setting makes a client of ours print a secret.
// The servers alilogin and the broker talk to all speak HTTP/1.1.
func HTTP1(tr *http.Transport) *http.Transport {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	tr.Protocols = p
	tr.ForceAttemptHTTP2 = false
	// A non-nil, empty map: no protocol upgrade after the TLS handshake.
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	// Nor an offer of h2 in the handshake (a TLS configuration that
	// served HTTP/2 before has it in its NextProtos).
	if c := tr.TLSClientConfig; c != nil && slices.Contains(c.NextProtos, "h2") {
		c = c.Clone()
		c.NextProtos = slices.DeleteFunc(slices.Clone(c.NextProtos), func(p string) bool { return p == "h2" })
		tr.TLSClientConfig = c
	}
	return tr
}

// NewTransport is a transport with http.DefaultTransport's settings
// (proxy from the environment, timeouts), HTTP/1.1 only (HTTP1).
func NewTransport() *http.Transport {
	return HTTP1(http.DefaultTransport.(*http.Transport).Clone())
}

// NewClient returns a client with the given overall timeout that speaks
// HTTP/1.1 only, follows redirects only within an origin and reads
// answers of at most limit bytes.
func NewClient(timeout time.Duration, limit int64) *http.Client {
	return &http.Client{Transport: LimitBodies(NewTransport(), limit), Timeout: timeout, CheckRedirect: CheckRedirect}
}

// Harden returns a copy of hc (nil: a client without timeout) that follows
// redirects only within an origin, speaks HTTP/1.1 only (its transport,
// when none or an *http.Transport, is replaced by an HTTP/1.1 copy) and,
// with limit > 0, reads answers of at most limit bytes.
func Harden(hc *http.Client, limit int64) *http.Client {
	cp := &http.Client{}
	if hc != nil {
		*cp = *hc
	}
	switch tr := cp.Transport.(type) {
	case nil:
		cp.Transport = NewTransport()
	case *http.Transport:
		cp.Transport = HTTP1(tr.Clone())
	}
	cp.CheckRedirect = CheckRedirect
	if _, done := cp.Transport.(*limitTransport); limit > 0 && !done {
		cp.Transport = LimitBodies(cp.Transport, limit)
	}
	return cp
}

// Refused reports whether err is a refused redirect or a too large answer:
// the configured server answered, but not with something usable.
func Refused(err error) bool {
	var re *RedirectError
	var tl *TooLargeError
	return errors.As(err, &re) || errors.As(err, &tl)
}
