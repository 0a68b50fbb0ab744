package oidc

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
)

// noControls fails when s holds a control character other than a
// newline, or a character that reorders text.
func noControls(t *testing.T, what, s string) {
	t.Helper()
	for _, r := range s {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r < 0xa0) || r == 0x202e {
			t.Errorf("%s holds %U:\n%q", what, r, s)
			return
		}
	}
}

// fakeClock is a DeviceOptions.after that returns at once and records
// how long it was asked to wait; waits of more than a minute (the device
// code's expiry) never end.
type fakeClock struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (f *fakeClock) after(d time.Duration) <-chan time.Time {
	if d > time.Minute {
		return nil
	}
	f.mu.Lock()
	f.waits = append(f.waits, d)
	f.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- time.Time{}
	return ch
}

func hostileClient(t *testing.T, p *hostile.OIDCProvider) *Client {
	t.Helper()
	t.Cleanup(p.Close)
	c, err := New(context.Background(), Config{Issuer: p.Issuer, ClientID: "alilogin", UserClaim: "cern_upn", RolesClaim: "cern_roles"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var signedIn = map[string]any{"cern_upn": "alice", "cern_roles": []string{"alice-ci-users"}}

// TestDeviceHostileText: the verification URI, the user code and the
// token endpoint's error_description of a hostile SSO reach the terminal
// without their escape sequences.
func TestDeviceHostileText(t *testing.T) {
	p := hostile.NewOIDCProvider(hostile.OIDCOptions{Claims: signedIn,
		VerificationURI:         "https://sso.example/device" + hostile.EscTitle + hostile.EscBidi,
		VerificationURIComplete: "https://sso.example/device?c=1" + hostile.EscClear,
		UserCode:                "WDJB" + hostile.EscClear + hostile.EscC1 + "MJHT",
		DevicePolls:             []string{"authorization_pending", "invalid_grant"},
		TokenErrorDescription:   "go away" + hostile.EscTitle + hostile.EscClear + "\r\nalilogin: logged in"})
	c := hostileClient(t, p)
	var stderr bytes.Buffer
	clk := &fakeClock{}
	_, err := c.Device(context.Background(), DeviceOptions{Stderr: &stderr, Timeout: 10 * time.Second, after: clk.after})
	if err == nil || !strings.Contains(err.Error(), "refused the device code (invalid_grant: go away") {
		t.Fatalf("err = %v", err)
	}
	noControls(t, "stderr", stderr.String())
	noControls(t, "the error", err.Error())
	for _, want := range []string{"https://sso.example/device?", "WDJB?[2J?[H?31mMJHT", "(or open https://sso.example/device?c=1"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// TestTokenErrorDescriptionClean: an error_description with escape
// sequences, on the authorization code exchange and on refresh.
func TestTokenErrorDescriptionClean(t *testing.T) {
	p := hostile.NewOIDCProvider(hostile.OIDCOptions{Claims: signedIn, TokenError: "invalid_grant" + hostile.EscClear,
		TokenErrorDescription: "no" + hostile.EscTitle + hostile.EscC1 + hostile.EscBidi})
	c := hostileClient(t, p)
	b := clickThrough{t: t, page: make(chan string, 1)}
	_, err := c.AuthCode(context.Background(), AuthCodeOptions{Listen: "127.0.0.1:0", Browser: b, Timeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "refused the authorization code") {
		t.Fatalf("login: %v", err)
	}
	noControls(t, "the login error", err.Error())
	<-b.page
	_, err = c.Refresh(context.Background(), secret.New("rt"))
	if !errors.Is(err, ErrRefreshRefused) {
		t.Fatalf("refresh: %v", err)
	}
	noControls(t, "the refresh error", err.Error())
}

// TestDeviceOutcomes: an expired code, a denied sign-in and a code whose
// expires_in passes each end with their own message.
func TestDeviceOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		o     hostile.OIDCOptions
		clock bool // the fake clock; else the real one
		want  error
		msg   string
	}{
		{"expired_token", hostile.OIDCOptions{Interval: 1, DevicePolls: []string{"authorization_pending", "expired_token"}}, true,
			ErrDeviceExpired, "the code expired before you signed in"},
		{"access_denied", hostile.OIDCOptions{Interval: 1, DevicePolls: []string{"access_denied"}}, true,
			ErrDeviceDenied, "the sign-in was denied on the other device"},
		// expires_in 1 s, polls every 5 s (no interval given): the code
		// expires before the first poll.
		{"expires_in passed", hostile.OIDCOptions{ExpiresIn: 1, DevicePolls: []string{"authorization_pending"}}, false,
			ErrDeviceExpired, "the code expired before you signed in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Claims = signedIn
			p := hostile.NewOIDCProvider(tc.o)
			c := hostileClient(t, p)
			o := DeviceOptions{Timeout: 20 * time.Second}
			if tc.clock {
				o.after = (&fakeClock{}).after
			}
			res, err := c.Device(context.Background(), o)
			if !errors.Is(err, tc.want) || res != nil {
				t.Fatalf("got %v, %v; want %v", res, err, tc.want)
			}
			if err.Error() != tc.msg {
				t.Errorf("message %q, want %q", err, tc.msg)
			}
		})
	}
}

// TestDeviceWithoutDeviceEndpoint: an SSO whose discovery document has
// no device authorization endpoint gets no request for a code, and the
// error says so with ErrNoDeviceFlow, naming the SSO; what to do instead
// is the caller's to say (oidc names no command).
func TestDeviceWithoutDeviceEndpoint(t *testing.T) {
	p := hostile.NewOIDCProvider(hostile.OIDCOptions{Claims: signedIn,
		Discovery: func(doc map[string]any) { delete(doc, "device_authorization_endpoint") }})
	c := hostileClient(t, p)
	_, err := c.Device(context.Background(), DeviceOptions{Timeout: 10 * time.Second, after: (&fakeClock{}).after})
	if !errors.Is(err, ErrNoDeviceFlow) || !strings.Contains(err.Error(), p.Issuer) || strings.Contains(err.Error(), "alilogin") {
		t.Errorf("Device without a device endpoint: %v; want ErrNoDeviceFlow naming %s and no command", err, p.Issuer)
	}
	if len(p.DevicePolls()) != 0 {
		t.Errorf("a device token poll was sent")
	}
}

// TestDeviceSlowDown: each slow_down adds 5 s to the polling interval,
// for that and all later polls (RFC 8628 3.5), and says so.
func TestDeviceSlowDown(t *testing.T) {
	p := hostile.NewOIDCProvider(hostile.OIDCOptions{Claims: signedIn, Interval: 1,
		DevicePolls: []string{"authorization_pending", "slow_down", "authorization_pending", "slow_down", ""}})
	c := hostileClient(t, p)
	clk := &fakeClock{}
	var stderr bytes.Buffer
	res, err := c.Device(context.Background(), DeviceOptions{Stderr: &stderr, Timeout: 10 * time.Second, after: clk.after})
	if err != nil {
		t.Fatal(err)
	}
	if res.Identity.User != "alice" {
		t.Errorf("user %q", res.Identity.User)
	}
	s := time.Second
	if diff := cmp.Diff([]time.Duration{1 * s, 1 * s, 6 * s, 6 * s, 11 * s}, clk.waits); diff != "" {
		t.Errorf("waits before each poll (-want +got):\n%s", diff)
	}
	for _, want := range []string{"every 6s now", "every 11s now"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// TestAZP: OpenID Connect Core 3.1.3.7: an azp, when present, is our
// client id; with several audiences it must be present. On login and on
// refresh.
func TestAZP(t *testing.T) {
	for _, tc := range []struct {
		name string
		aud  any
		azp  any // nil: none
		ok   bool
	}{
		{"one audience, no azp", "cli", nil, true},
		{"one audience, azp us", "cli", "cli", true},
		{"one audience, azp another", "cli", "other", false},
		{"two audiences, azp us", []string{"other", "cli"}, "cli", true},
		{"two audiences, azp another", []string{"other", "cli"}, "other", false},
		{"two audiences, no azp", []string{"other", "cli"}, nil, false},
		{"azp not a string", "cli", []string{"cli"}, false},
		{"azp with escapes", "cli", "other" + hostile.EscTitle, false},
	} {
		mint := func(op *fakeOP) string {
			c := op.claims()
			c["aud"] = tc.aud
			if tc.azp != nil {
				c["azp"] = tc.azp
			}
			return op.sign(op.key, "RS256", c)
		}
		check := func(t *testing.T, res *Result, err error) {
			t.Helper()
			if tc.ok {
				if err != nil || res == nil || res.Identity.User != "alice" {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidIDToken) || res != nil {
				t.Fatalf("got %v, %v; want an invalid ID token error", res, err)
			}
			noControls(t, "the error", err.Error())
		}
		t.Run("login/"+tc.name, func(t *testing.T) {
			op := newFakeOP(t)
			op.mint = mint
			c := newTestClient(t, op, "cern_roles")
			b := clickThrough{t: t, page: make(chan string, 1)}
			res, err := c.AuthCode(context.Background(), AuthCodeOptions{Listen: "127.0.0.1:0", Browser: b, Timeout: 10 * time.Second})
			<-b.page
			check(t, res, err)
		})
		t.Run("refresh/"+tc.name, func(t *testing.T) {
			op := newFakeOP(t)
			op.mint = mint
			c := newTestClient(t, op, "cern_roles")
			res, err := c.Refresh(context.Background(), secret.New("rt-1"))
			check(t, res, err)
		})
	}
}

// TestCallbackWrongStateKeepsWaiting: requests to the callback with a
// wrong or missing state, as any web page can make the browser send, get
// 400 and leave the login waiting; the SSO's redirect with the right
// state then completes it.
func TestCallbackWrongStateKeepsWaiting(t *testing.T) {
	op := newFakeOP(t)
	c := newTestClient(t, op, "cern_roles")
	var stderr lockedBuffer
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		_, err := c.AuthCode(context.Background(), AuthCodeOptions{Listen: "127.0.0.1:0", Browser: resolving(urls), Stderr: &stderr, Timeout: 10 * time.Second})
		done <- err
	}()
	u, _ := url.Parse(<-urls)
	redirect := u.Query().Get("redirect_uri")
	for _, q := range []string{
		"",
		"?code=x",
		"?code=x&state=forged",
		"?error=access_denied&error_description=" + url.QueryEscape(hostile.EscTitle),
		"?state=&code=x",
	} {
		code, page := get(t, redirect+q)
		if code != http.StatusBadRequest || !strings.Contains(page, "not from the login waiting in the terminal") {
			t.Errorf("callback%s: %d %s", q, code, page)
		}
		select {
		case err := <-done:
			t.Fatalf("callback%s ended the login: %v", q, err)
		default:
		}
	}
	// The user's real sign-in.
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the real callback answered %d", resp.StatusCode)
	}
	if err := <-done; err != nil {
		t.Fatalf("login: %v", err)
	}
	if n := strings.Count(stderr.String(), "wrong or missing state"); n != 1 {
		t.Errorf("stderr says %d times that it refused a callback, want once:\n%s", n, stderr.String())
	}
	noControls(t, "stderr", stderr.String())
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestListenRedirectNamesBoundAddress: with --listen on another loopback
// address, the redirect URI names that address, and the login completes.
func TestListenRedirectNamesBoundAddress(t *testing.T) {
	specs := []string{"127.0.0.2:0", "127.0.0.1:0"}
	if l, err := net.Listen("tcp", "[::1]:0"); err == nil {
		l.Close()
		specs = append(specs, "[::1]:0")
	} else {
		t.Logf("no IPv6 loopback here (%v): [::1] not tried", err)
	}
	for _, spec := range specs {
		t.Run(spec, func(t *testing.T) {
			op := newFakeOP(t)
			c := newTestClient(t, op, "cern_roles")
			urls := make(chan string, 1)
			b := clickThrough{t: t, page: make(chan string, 1)}
			res, err := c.AuthCode(context.Background(), AuthCodeOptions{Listen: spec, Browser: teeBrowser{urls, b}, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			<-b.page
			u, _ := url.Parse(<-urls)
			r, _ := url.Parse(u.Query().Get("redirect_uri"))
			host, _, _ := strings.Cut(spec, ":0")
			if h := r.Hostname(); "["+h+"]" != host && h != host {
				t.Errorf("redirect_uri %s does not name %s", r, host)
			}
			if res.Identity.User != "alice" {
				t.Errorf("user %q", res.Identity.User)
			}
		})
	}
}

// teeBrowser reports the authorization URL behind the start URL, then
// opens it with b.
type teeBrowser struct {
	urls chan string
	b    Browser
}

func (t teeBrowser) Open(u string) error {
	a, err := resolveStart(u)
	t.urls <- a
	if err != nil {
		return err
	}
	return t.b.Open(a)
}

// TestDeviceFormClientOnly: an SSO that refuses HTTP Basic client
// authentication on the device polls gets the client id in the form only.
func TestDeviceFormClientOnly(t *testing.T) {
	p := hostile.NewOIDCProvider(hostile.OIDCOptions{Claims: signedIn, Interval: 1, FormClientOnly: true,
		DevicePolls: []string{"authorization_pending", ""}})
	c := hostileClient(t, p)
	res, err := c.Device(context.Background(), DeviceOptions{Timeout: 10 * time.Second, after: (&fakeClock{}).after})
	if err != nil || res.Identity.User != "alice" {
		t.Fatalf("%v, %v", res, err)
	}
	if n := len(p.DevicePolls()); n != 2 {
		t.Errorf("%d polls reached the token endpoint, want 2", n)
	}
}

// TestRevokeErrorClean: logout's refresh token revocation error quotes
// the SSO's answer without its control characters.
func TestRevokeErrorClean(t *testing.T) {
	p := hostile.NewOIDCProvider(hostile.OIDCOptions{RevokeError: "nope" + hostile.EscTitle + hostile.EscClear + hostile.EscC1})
	c := hostileClient(t, p)
	err := c.Revoke(context.Background(), secret.New("rt"))
	if err == nil || !strings.Contains(err.Error(), "400: nope?]0;pwned??[2J?[H?31m") {
		t.Fatalf("err = %v", err)
	}
	noControls(t, "the error", err.Error())
}

// TestAuthURLClean: an authorization endpoint with a bidi override in
// the discovery document is printed without it; one with escape
// sequences is not a URL and is refused with an error without them.
func TestAuthURLClean(t *testing.T) {
	p := hostile.NewOIDCProvider(hostile.OIDCOptions{Discovery: func(doc map[string]any) {
		doc["authorization_endpoint"] = doc["authorization_endpoint"].(string) + hostile.EscBidi
	}})
	c := hostileClient(t, p)
	// Printed with --no-browser; the start URL's redirect with a browser.
	for _, b := range []Browser{nil, make(resolving, 1)} {
		var stderr lockedBuffer
		_, err := c.AuthCode(context.Background(), AuthCodeOptions{Listen: "127.0.0.1:0", Browser: b, Stderr: &stderr, Timeout: 200 * time.Millisecond})
		shown := stderr.String()
		if r, ok := b.(resolving); ok {
			shown = <-r
		}
		if err == nil || !strings.Contains(shown, "/auth?") {
			t.Errorf("%v; stderr:\n%s\nauthorization URL: %q", err, stderr.String(), shown)
		}
		noControls(t, "stderr", stderr.String())
		noControls(t, "the authorization URL", shown)
	}

	p = hostile.NewOIDCProvider(hostile.OIDCOptions{Discovery: func(doc map[string]any) {
		doc["authorization_endpoint"] = doc["authorization_endpoint"].(string) + hostile.EscTitle + hostile.EscBidi
	}})
	c = hostileClient(t, p)
	urls := make(urlCatcher, 1)
	var stderr lockedBuffer
	_, err := c.AuthCode(context.Background(), AuthCodeOptions{Listen: "127.0.0.1:0", Browser: urls, Stderr: &stderr, Timeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "/auth?]0;pwned??") {
		t.Errorf("%v; stderr:\n%s", err, stderr.String())
	} else {
		noControls(t, "the error", err.Error())
	}
	if len(urls) != 0 || stderr.String() != "" {
		t.Errorf("the browser got %d URLs; stderr:\n%s", len(urls), stderr.String())
	}
}
