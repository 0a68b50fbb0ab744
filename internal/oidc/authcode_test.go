package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newTestClient(t *testing.T, op *fakeOP, rolesClaim string) *Client {
	t.Helper()
	c, err := New(context.Background(), Config{Issuer: op.URL, ClientID: "cli", RolesClaim: rolesClaim, UserClaim: "cern_upn"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAuthCode(t *testing.T) {
	op := newFakeOP(t)
	c := newTestClient(t, op, "cern_roles")
	b := clickThrough{t: t, page: make(chan string, 1)}
	res, err := c.AuthCode(context.Background(), AuthCodeOptions{Listen: "127.0.0.1:0", Browser: b, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if page := <-b.page; !strings.Contains(page, "Signed in") {
		t.Errorf("page: %s", page)
	}
	want := &Identity{Issuer: op.URL, Subject: "alice-sub", User: "alice", Roles: []string{"a", "b"}}
	if diff := cmp.Diff(want, res.Identity, cmpIgnoreExpiry); diff != "" {
		t.Errorf("identity (-want +got):\n%s", diff)
	}
	if res.RefreshToken.Empty() || res.IDToken.Empty() {
		t.Error("no refresh or ID token")
	}
}

var cmpIgnoreExpiry = cmp.Comparer(func(a, b time.Time) bool { return true })

func TestRolesClaimPointer(t *testing.T) {
	op := newFakeOP(t)
	c := newTestClient(t, op, "/resource_access/cli/roles")
	b := clickThrough{t: t, page: make(chan string, 1)}
	res, err := c.AuthCode(context.Background(), AuthCodeOptions{Listen: "127.0.0.1:0", Browser: b, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	<-b.page
	if diff := cmp.Diff([]string{"nested"}, res.Identity.Roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
}

// TestBadIDTokens: every bad ID token is refused, and the browser is told.
func TestBadIDTokens(t *testing.T) {
	// withClaims mints an ID token signed as the OP signs, with the
	// claims it gives changed by edit.
	withClaims := func(edit func(c map[string]any)) func(op *fakeOP) string {
		return func(op *fakeOP) string {
			c := op.claims()
			edit(c)
			return op.sign(op.key, "RS256", c)
		}
	}
	for _, tc := range []struct {
		name string
		mint func(op *fakeOP) string
	}{
		{"wrong audience", withClaims(func(c map[string]any) { c["aud"] = "someone-else" })},
		{"wrong issuer", withClaims(func(c map[string]any) { c["iss"] = "https://evil.example" })},
		{"expired", withClaims(func(c map[string]any) {
			c["exp"] = time.Now().Add(-time.Hour).Unix()
			c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
		})},
		{"wrong nonce", withClaims(func(c map[string]any) { c["nonce"] = "not-the-nonce" })},
		{"no nonce", withClaims(func(c map[string]any) { delete(c, "nonce") })},
		{"signed by another key", func(op *fakeOP) string { return op.sign(op.otherKey, "RS256", op.claims()) }},
		{"alg none", func(op *fakeOP) string { return op.sign(nil, "none", op.claims()) }},
		{"not a JWT", func(op *fakeOP) string { return "garbage" }},
		{"no user claim", withClaims(func(c map[string]any) { delete(c, "cern_upn") })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			op := newFakeOP(t)
			op.mint = tc.mint
			c := newTestClient(t, op, "cern_roles")
			b := clickThrough{t: t, page: make(chan string, 1)}
			res, err := c.AuthCode(context.Background(), AuthCodeOptions{Listen: "127.0.0.1:0", Browser: b, Timeout: 10 * time.Second})
			if !errors.Is(err, ErrInvalidIDToken) || res != nil {
				t.Fatalf("got %v, %v; want an invalid ID token error", res, err)
			}
			if page := <-b.page; !strings.Contains(page, "Sign-in failed") {
				t.Errorf("page: %s", page)
			}
		})
	}
}

// startAuthCode runs AuthCode with a browser that only reports the URL.
func startAuthCode(t *testing.T, c *Client) (authURL *url.URL, done chan error) {
	t.Helper()
	urls := make(chan string, 1)
	done = make(chan error, 1)
	go func() {
		_, err := c.AuthCode(context.Background(), AuthCodeOptions{Listen: "127.0.0.1:0", Browser: resolving(urls), Timeout: 10 * time.Second})
		done <- err
	}()
	u, err := url.Parse(<-urls)
	if err != nil || u.Query().Get("state") == "" {
		t.Fatalf("authorization URL %s: %v", u, err)
	}
	return u, done
}

// urlCatcher is a Browser that reports the URL it is given.
type urlCatcher chan string

func (u urlCatcher) Open(s string) error { u <- s; return nil }

// resolving is a Browser that asks the start URL it is given for the
// authorization URL, without going there, and reports that ("" when the
// start URL did not redirect).
type resolving chan string

func (r resolving) Open(s string) error {
	a, err := resolveStart(s)
	r <- a
	return err
}

// resolveStart returns the authorization URL that the login's start URL
// start redirects to, checking the redirect's headers.
func resolveStart(start string) (string, error) {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(start)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "no-referrer" {
		return "", fmt.Errorf("start URL %s: %d, headers %v", start, resp.StatusCode, resp.Header)
	}
	return resp.Header.Get("Location"), nil
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestCallbackAttacks; callbacks with a wrong or missing state are in
// TestCallbackWrongStateKeepsWaiting.
func TestCallbackAttacks(t *testing.T) {
	op := newFakeOP(t)
	c := newTestClient(t, op, "cern_roles")

	t.Run("other paths do not end the login", func(t *testing.T) {
		u, done := startAuthCode(t, c)
		redirect, _ := url.Parse(u.Query().Get("redirect_uri"))
		if code, _ := get(t, fmt.Sprintf("http://%s/favicon.ico", redirect.Host)); code != 404 {
			t.Errorf("favicon: %d", code)
		}
		// Then the real sign-in.
		resp, err := http.Get(u.String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	t.Run("replayed code", func(t *testing.T) {
		u, done := startAuthCode(t, c)
		// A code the SSO does not know (used before, or for someone else).
		get(t, u.Query().Get("redirect_uri")+"?code=code-used&state="+url.QueryEscape(u.Query().Get("state")))
		if err := <-done; err == nil || !strings.Contains(err.Error(), "refused the authorization code") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("error with control characters", func(t *testing.T) {
		u, done := startAuthCode(t, c)
		get(t, u.Query().Get("redirect_uri")+"?error=access_denied&error_description="+url.QueryEscape("no\x1b[2J\r\n")+"&state="+url.QueryEscape(u.Query().Get("state")))
		if err := <-done; err == nil || !strings.Contains(err.Error(), "access_denied: no?[2J??") {
			t.Errorf("err = %q", err)
		}
	})
	t.Run("error from the SSO", func(t *testing.T) {
		u, done := startAuthCode(t, c)
		get(t, u.Query().Get("redirect_uri")+"?error=access_denied&error_description=no&state="+url.QueryEscape(u.Query().Get("state")))
		if err := <-done; err == nil || !strings.Contains(err.Error(), "access_denied") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestListen(t *testing.T) {
	for _, tc := range []struct {
		spec string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"localhost:0", true},
		{"0", true},
		{"0.0.0.0:0", false},
		{"192.0.2.1:8000", false},
		{"127.0.0.2:0", true},
		{"[::2]:0", false},
		{"[::]:0", false},
		{"example.org:0", false},
		{"nonsense", false},
	} {
		l, err := listen(tc.spec)
		if (err == nil) != tc.ok {
			t.Errorf("listen(%q) = %v, want ok=%v", tc.spec, err, tc.ok)
		}
		if l != nil {
			l.Close()
		}
	}
}

func TestCanShowBrowser(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	if CanShowBrowser(env()) {
		t.Error("no display: browser")
	}
	if !CanShowBrowser(env("DISPLAY", ":0")) {
		t.Error("DISPLAY: no browser")
	}
	if !CanShowBrowser(env("WAYLAND_DISPLAY", "wayland-0", "SSH_CONNECTION", "x")) {
		t.Error("SSH with a forwarded display: no browser")
	}
	if CanShowBrowser(env("SSH_CONNECTION", "x")) {
		t.Error("SSH without display: browser")
	}
}

func TestAuthCodeTimeoutAndCancel(t *testing.T) {
	op := newFakeOP(t)
	c := newTestClient(t, op, "cern_roles")
	urls := make(urlCatcher, 1)
	_, err := c.AuthCode(context.Background(), AuthCodeOptions{Listen: "127.0.0.1:0", Browser: urls, Timeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "no sign-in within 200ms") {
		t.Errorf("timeout: %v", err)
	}
	if code, _ := get(t, <-urls); code != 0 {
		t.Errorf("listener still open after the timeout: %d", code)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-urls; cancel() }()
	_, err = c.AuthCode(ctx, AuthCodeOptions{Listen: "127.0.0.1:0", Browser: urls, Timeout: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "login cancelled") {
		t.Errorf("cancel: %v", err)
	}
}
