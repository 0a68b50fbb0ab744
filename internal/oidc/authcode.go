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
	// Commands are the caller's words for what the user runs to sign
	// in again, or with the device flow, in the texts of the loopback
	// page and of Stderr (none: the texts name no command).
	Commands SignInCommands

	// noPeerLookup acts as where the owner of a connection cannot be
	// looked up (macOS), for the tests of that behaviour on Linux.
	noPeerLookup bool
}

// SignInCommands are what the user runs to sign in again (Again) and to
// sign in with the device flow (Device): alilogin's "alilogin login" and
// "alilogin login --device".
type SignInCommands struct{ Again, Device string }

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

// AuthCode signs the user in through the browser: authorization code with
// PKCE S256, state and nonce, on a single-use loopback listener that is
// closed after the callback, on timeout or when ctx ends. The browser is
// given the listener's start URL, which redirects to the authorization
// URL; without a browser the authorization URL is printed.
func (c *Client) AuthCode(ctx context.Context, o AuthCodeOptions) (*Result, error) {
	// The system browser follows the start URL's redirect wherever it
	// points (file:, custom handlers), and the user opens the URL that
	// --no-browser prints: only the issuer's own https:// origin.
	if err := c.checkAuthEndpoint(); err != nil {
		return nil, err
	}
	var (
		oc       *oauth2.Config
		result   *Result
		nonce    = randomString(24)
		verifier = oauth2.GenerateVerifier()
	)
	err := runLoopback(ctx, o, Flow{
		CallbackPath: callbackPath,
		AuthURL: func(_ context.Context, redirect string) (string, string, error) {
			oc = c.oauth2(redirect)
			state := randomString(24)
			return oc.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), state, nil
		},
		Finish: func(ctx context.Context, code string) error {
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
		},
	})
	if err != nil {
		return nil, err
	}
	return result, nil
}

// Flow is a browser sign-in on the loopback listener whose authorization
// URL and code redemption belong to its caller: the login's own (AuthCode)
// or another party's, such as Vault's OIDC role flow, where Vault makes
// the authorization URL with its state and redeems the code itself
// (internal/elevate).
type Flow struct {
	// CallbackPath is the path of the redirect URI, e.g. "/callback".
	CallbackPath string
	// AuthURL is the authorization URL for redirect (the listener's
	// http://ADDR<CallbackPath>) and the state it carries, which the
	// callback must bring back.
	AuthURL func(ctx context.Context, redirect string) (authURL, state string, err error)
	// Finish redeems the code of the callback that carried the state;
	// its error is shown on the browser's page and returned.
	Finish func(ctx context.Context, code string) error
}

// Run runs f on a single-use loopback listener with the login's
// protections: the Host and peer checks, the start URL that keeps the
// state out of the browser's argv, the state check of the callback, the
// timeout.
func Run(ctx context.Context, o AuthCodeOptions, f Flow) error {
	if f.CallbackPath == "" || !strings.HasPrefix(f.CallbackPath, "/") || f.CallbackPath == startPath {
		return fmt.Errorf("invalid callback path %q", f.CallbackPath)
	}
	return runLoopback(ctx, o, f)
}

// runLoopback is Run, for AuthCode too.
func runLoopback(ctx context.Context, o AuthCodeOptions, f Flow) error {
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	l, err := listen(o.Listen)
	if err != nil {
		return err
	}
	defer l.Close()
	redirect := "http://" + l.Addr().String() + f.CallbackPath

	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	rawURL, state, err := f.AuthURL(ctx, redirect)
	if err != nil {
		return err
	}
	cb := &callback{path: f.CallbackPath, state: state, done: make(chan error, 1), refused: func() {
		fmt.Fprintf(o.Stderr, "\n(refused a request to the callback with a wrong or missing state, not from this login; still waiting)\n")
	}}
	// The exchange is bounded by the login, not by the browser request.
	cb.finish = func(_ *http.Request, code string) error { return f.Finish(ctx, code) }
	// The authorization endpoint comes from a server: printed cleaned
	// like any server text (a real URL is unchanged).
	authURL := termtext.Clean(rawURL)
	// Only the user's own connections reach the handlers where the owner
	// can be looked up (Linux); elsewhere the start URL is served once.
	peerCheck := peercred.Supported() && !o.noPeerLookup
	lp := &loopback{addr: l.Addr().String(), uid: uint32(os.Geteuid()), peerCheck: peerCheck, cb: cb, stderr: o.Stderr, commands: o.Commands}
	if o.Browser != nil {
		lp.start = &start{authURL: authURL, once: !peerCheck, abort: cb.abort, again: o.Commands.Again}
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
		return err
	case <-ctx.Done():
		stop()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return noSignInWithin(o.Timeout)
		}
		return fmt.Errorf("login cancelled")
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
