package oidc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/alisw/alilogin/internal/peercred"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/termtext"
)

// DefaultPorts are the loopback ports tried in order, so that the
// redirect URIs http://127.0.0.1:PORT/callback can be registered at an SSO
// that does not accept any port.
var DefaultPorts = []int{8250, 18250, 28250}

// DefaultTimeout is how long login waits for the browser.
const DefaultTimeout = 5 * time.Minute

// AuthCodeOptions tune the browser login.
type AuthCodeOptions struct {
	// Listen is host:port to listen on instead of DefaultPorts; the host
	// must be a loopback address (127.0.0.1, [::1]; empty or localhost
	// mean 127.0.0.1), port 0 picks a free one.
	Listen  string
	Browser Browser   // nil: only print the URL
	Stderr  io.Writer // messages and the URL
	Timeout time.Duration
	// Progress shows a spinner on Stderr (when it is a terminal).
	Progress bool

	// noPeerLookup acts as where the owner of a connection cannot be
	// looked up (macOS), for the tests of that behaviour on Linux.
	noPeerLookup bool
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// listen binds the loopback listener. spec is empty (DefaultPorts on
// 127.0.0.1), PORT, or HOST:PORT with a loopback IP address (127.0.0.0/8
// or [::1]; "localhost" means 127.0.0.1). The redirect URI is built from
// the address actually bound.
// CheckListen checks a --listen value and returns the loopback address
// to listen on: 127.0.0.1:PORT, [::1]:PORT, localhost:PORT or a bare PORT
// (on 127.0.0.1). alilogin login calls it before anything else, so that
// a bad value is a usage error.
func CheckListen(spec string) (string, error) {
	host, port, err := net.SplitHostPort(spec)
	if err != nil {
		if _, perr := strconv.Atoi(spec); perr != nil {
			return "", fmt.Errorf("invalid --listen %q: want 127.0.0.1:PORT or [::1]:PORT", spec)
		}
		host, port = "127.0.0.1", spec
	}
	if host == "" || host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("invalid --listen %q: only a loopback address (127.0.0.1:PORT or [::1]:PORT) is allowed", spec)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("invalid --listen %q: the port must be a number from 0 to 65535", spec)
	}
	return net.JoinHostPort(host, port), nil
}

func listen(spec string) (net.Listener, error) {
	if spec != "" {
		addr, err := CheckListen(spec)
		if err != nil {
			return nil, err
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("could not listen on %s for the SSO callback: %w", spec, err)
		}
		return l, nil
	}
	var errs []error
	for _, p := range DefaultPorts {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			return l, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("could not listen on any of the loopback ports %v for the SSO callback (use --listen): %w", DefaultPorts, errors.Join(errs...))
}

// redirectURI is the callback URL of the listener l, naming the address
// it is bound to (http://127.0.0.1:PORT/callback, http://[::1]:PORT/callback).
func redirectURI(l net.Listener) string {
	return "http://" + l.Addr().String() + callbackPath
}

// AuthCode signs the user in through the browser: authorization code with
// PKCE S256, state and nonce, on a single-use loopback listener that is
// closed after the callback, on timeout or when ctx ends. The browser is
// given the listener's start URL, which redirects to the authorization
// URL; without a browser the authorization URL is printed.
func (c *Client) AuthCode(ctx context.Context, o AuthCodeOptions) (*Result, error) {
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	// The system browser follows the start URL's redirect wherever it
	// points (file:, custom handlers), and the user opens the URL that
	// --no-browser prints: only the issuer's own https:// origin.
	if err := c.checkAuthEndpoint(); err != nil {
		return nil, err
	}
	l, err := listen(o.Listen)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	redirect := redirectURI(l)
	oc := c.oauth2(redirect)
	state, nonce, verifier := randomString(24), randomString(24), oauth2.GenerateVerifier()

	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var result *Result
	cb := &callback{state: state, done: make(chan error, 1), refused: func() {
		fmt.Fprintf(o.Stderr, "\n(refused a request to the callback with a wrong or missing state, not from this login; still waiting)\n")
	}}
	cb.finish = func(r *http.Request, code string) error {
		// The exchange is bounded by the login, not by the browser request.
		t0 := time.Now()
		tok, err := oc.Exchange(c.ctx(ctx), code, oauth2.VerifierOption(verifier))
		if err != nil {
			return exchangeError(c.cfg.Issuer, err, secret.New(code), secret.New(verifier))
		}
		res, err := c.result(ctx, tok, nonce)
		if err != nil {
			return err
		}
		res.Exchange = time.Since(t0)
		result = res
		return nil
	}
	// The authorization endpoint comes from the discovery document:
	// printed cleaned like any server text (a real URL is unchanged).
	authURL := termtext.Clean(oc.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	// Only the user's own connections reach the handlers where the owner
	// can be looked up (Linux); elsewhere the start URL is served once.
	peerCheck := peercred.Supported() && !o.noPeerLookup
	lp := &loopback{addr: l.Addr().String(), uid: uint32(os.Geteuid()), peerCheck: peerCheck, cb: cb, stderr: o.Stderr}
	if o.Browser != nil {
		lp.start = &start{authURL: authURL, once: !peerCheck, abort: cb.abort}
	}
	srv := &http.Server{Handler: lp.handler(), ReadHeaderTimeout: 10 * time.Second, ConnContext: peercred.ConnContext}
	go func() { _ = srv.Serve(l) }()
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
	}()

	if o.Browser != nil {
		// The browser, and the launcher before it, get the start URL: no
		// state, nonce or challenge in any process's argv.
		startURL := "http://" + lp.addr + startPath
		fmt.Fprintf(o.Stderr, "Opening the browser to sign in. If it does not open, visit:\n  %s\n", startURL)
		if err := o.Browser.Open(startURL); err != nil {
			fmt.Fprintf(o.Stderr, "(could not open a browser: %v)\n", err)
		}
	} else {
		fmt.Fprintf(o.Stderr, "Open this URL in a browser to sign in:\n  %s\n", authURL)
	}
	stop := startSpinner(o.Stderr, o.Progress, "waiting for the sign-in in the browser")
	defer stop()
	select {
	case err := <-cb.done:
		stop()
		if err != nil {
			return nil, err
		}
		return result, nil
	case <-ctx.Done():
		stop()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, noSignInWithin(o.Timeout)
		}
		return nil, fmt.Errorf("login cancelled")
	}
}

// exchangeError explains a failed token request for the authorization
// code, with the code and the PKCE verifier masked.
func exchangeError(issuer string, err error, code, verifier secret.String) error {
	return grantError(issuer, "the authorization code", err, code, verifier)
}

// grantError translates a failed token request for grant (e.g. "the
// authorization code"); the provider's description is shown with each of
// hide, the secrets sent, masked in case the provider quotes them back.
func grantError(issuer, grant string, err error, hide ...secret.String) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		msg := re.ErrorCode
		if re.ErrorDescription != "" {
			msg += ": " + re.ErrorDescription
		}
		if msg == "" && re.Response != nil {
			msg = re.Response.Status
		}
		msg = mask(msg, hide...)
		return fmt.Errorf("the SSO at %s refused %s (%s)", issuer, grant, termtext.Clean(msg))
	}
	return ssoError(issuer, "redeem "+grant+" at", err)
}

// mask replaces each non-empty secret of hide in s by secret.Redacted,
// the longest first (so that a secret inside another is not left in part).
func mask(s string, hide ...secret.String) string {
	vals := make([]string, 0, len(hide))
	for _, h := range hide {
		if v := h.Reveal(); v != "" {
			vals = append(vals, v)
		}
	}
	slices.SortFunc(vals, func(a, b string) int { return len(b) - len(a) })
	for _, v := range vals {
		s = strings.ReplaceAll(s, v, secret.Redacted)
	}
	return s
}
