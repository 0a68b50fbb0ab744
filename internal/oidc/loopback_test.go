package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/testutil"
)

// regexpURLLine is the URL line printed on stderr.
var regexpURLLine = regexp.MustCompile(`(?m)^  (https?://\S+)$`)

// running is an AuthCode in progress.
type running struct {
	start  string // the URL the browser was given ("" with no browser)
	stderr *lockedBuffer
	done   chan error
}

// runAuthCode starts AuthCode with o (Listen, Stderr, Timeout and the
// browser filled in) and waits until the browser is opened, or, without
// one, until the URL is printed.
func runAuthCode(t *testing.T, c *Client, o AuthCodeOptions, browser bool) *running {
	t.Helper()
	r := &running{stderr: &lockedBuffer{}, done: make(chan error, 1)}
	o.Listen, o.Stderr, o.Timeout = "127.0.0.1:0", r.stderr, 10*time.Second
	urls := make(urlCatcher, 1)
	if browser {
		o.Browser = urls
	}
	go func() { _, err := c.AuthCode(context.Background(), o); r.done <- err }()
	if browser {
		r.start = <-urls
		return r
	}
	if !testutil.Eventually(10*time.Second, func() bool { return strings.Contains(r.stderr.String(), "/auth?") }) {
		t.Fatalf("no URL printed:\n%s", r.stderr.String())
	}
	return r
}

// stillWaiting fails when the login has ended.
func (r *running) stillWaiting(t *testing.T, after string) {
	t.Helper()
	select {
	case err := <-r.done:
		t.Fatalf("%s ended the login: %v", after, err)
	default:
	}
}

// finish signs in through the authorization URL (the fake SSO sends the
// browser straight back to the callback) and returns the login's error.
func (r *running) finish(t *testing.T, authURL string) error {
	t.Helper()
	if code, page := get(t, authURL); code != http.StatusOK {
		t.Errorf("sign-in: %d %s", code, page)
	}
	return <-r.done
}

// TestBrowserGetsStartURLWithoutSecrets: the browser (and xdg-open
// before it) is handed http://127.0.0.1:PORT/start, which carries
// nothing of the login; the same URL is printed. It redirects (302, not
// stored, no referrer) to the authorization URL with state, nonce, PKCE
// challenge and redirect URI; the user's reload gets it again.
func TestBrowserGetsStartURLWithoutSecrets(t *testing.T) {
	c := newTestClient(t, newFakeOP(t), "cern_roles")
	r := runAuthCode(t, c, AuthCodeOptions{}, true)
	su, err := url.Parse(r.start)
	if err != nil {
		t.Fatal(err)
	}
	if su.Scheme != "http" || su.Hostname() != "127.0.0.1" || su.Path != startPath || su.RawQuery != "" || su.Fragment != "" {
		t.Errorf("the browser got %s, want http://127.0.0.1:PORT%s", r.start, startPath)
	}
	if out := r.stderr.String(); !strings.Contains(out, "visit:\n  "+r.start+"\n") || strings.Contains(out, "state=") {
		t.Errorf("stderr:\n%s", out)
	}
	a, au := authURLOf(t, r)
	for _, p := range []string{"state", "nonce", "code_challenge", "redirect_uri"} {
		v := au.Query().Get(p)
		if v == "" {
			t.Errorf("the authorization URL has no %s: %s", p, a)
		}
		if strings.Contains(r.start, v) || strings.Contains(r.start, url.QueryEscape(v)) {
			t.Errorf("the start URL holds the %s", p)
		}
	}
	if again, err := resolveStart(r.start); err != nil || again != a {
		t.Errorf("a reload of the start URL: %q, %v", again, err)
	}
	if err := r.finish(t, a); err != nil {
		t.Fatal(err)
	}
}

// TestNoBrowserPrintsAuthorizationURL: with --no-browser the terminal,
// the user's own, shows the authorization URL itself, and there is no
// start URL to ask.
func TestNoBrowserPrintsAuthorizationURL(t *testing.T) {
	c := newTestClient(t, newFakeOP(t), "cern_roles")
	r := runAuthCode(t, c, AuthCodeOptions{}, false)
	m := regexpURLLine.FindStringSubmatch(r.stderr.String())
	if m == nil {
		t.Fatalf("stderr:\n%s", r.stderr.String())
	}
	au, _ := url.Parse(m[1])
	if au == nil || au.Query().Get("state") == "" {
		t.Fatalf("no state in %s", m[1])
	}
	cb, _ := url.Parse(au.Query().Get("redirect_uri"))
	if code, _ := get(t, "http://"+cb.Host+startPath); code != http.StatusNotFound {
		t.Errorf("start URL without a browser: %d, want 404", code)
	}
	if err := r.finish(t, m[1]); err != nil {
		t.Fatal(err)
	}
}

// TestStartURLServedOnceWithoutPeerLookup: where the owner of a
// connection cannot be looked up (macOS), the start URL is served once;
// a second request ends the login with a clear error instead of handing
// the state out again, and the listener closes.
func TestStartURLServedOnceWithoutPeerLookup(t *testing.T) {
	c := newTestClient(t, newFakeOP(t), "cern_roles")
	r := runAuthCode(t, c, AuthCodeOptions{noPeerLookup: true, Commands: SignInCommands{Again: "alilogin elevate"}}, true)
	a, err := resolveStart(r.start)
	if err != nil || a == "" {
		t.Fatalf("first request: %q, %v", a, err)
	}
	code, page := get(t, r.start)
	if code != http.StatusGone || strings.Contains(page, "state=") {
		t.Errorf("second request: %d %s", code, page)
	}
	// The page says what the caller runs to sign in again, its words.
	if !strings.Contains(page, "Run alilogin elevate again.") {
		t.Errorf("the page of the second request does not say what to run:\n%s", page)
	}
	if err := <-r.done; !errors.Is(err, errStartTwice) {
		t.Fatalf("login: %v, want %v", err, errStartTwice)
	}
	// The one who had the first answer cannot finish it.
	au, _ := url.Parse(a)
	if code, _ := get(t, au.Query().Get("redirect_uri")+"?code=x&state="+url.QueryEscape(au.Query().Get("state"))); code != 0 {
		t.Errorf("the callback still answers after the abort: %d", code)
	}
}

// TestStartURLOnlyForNavigation: only a GET that no web page started
// gets the redirect: a POST, a HEAD, and a request with Sec-Fetch-Site
// cross-site or same-site (an <img>, a form on some page) are refused and
// do not use up the start URL where it is served once.
func TestStartURLOnlyForNavigation(t *testing.T) {
	c := newTestClient(t, newFakeOP(t), "cern_roles")
	r := runAuthCode(t, c, AuthCodeOptions{noPeerLookup: true}, true)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		method, site string
		want         int
	}{
		{http.MethodPost, "", http.StatusMethodNotAllowed},
		{http.MethodHead, "", http.StatusMethodNotAllowed},
		{http.MethodGet, "cross-site", http.StatusForbidden},
		{http.MethodGet, "same-site", http.StatusForbidden},
	} {
		req, _ := http.NewRequest(tc.method, r.start, nil)
		if tc.site != "" {
			req.Header.Set("Sec-Fetch-Site", tc.site)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want || resp.Header.Get("Location") != "" {
			t.Errorf("%s Sec-Fetch-Site %q: %d, Location %q; want %d", tc.method, tc.site, resp.StatusCode, resp.Header.Get("Location"), tc.want)
		}
		r.stillWaiting(t, tc.method+" "+tc.site)
	}
	// The browser's own navigation (Sec-Fetch-Site: none) still gets it.
	req, _ := http.NewRequest(http.MethodGet, r.start, nil)
	req.Header.Set("Sec-Fetch-Site", "none")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("navigation: %d", resp.StatusCode)
	}
	if err := r.finish(t, resp.Header.Get("Location")); err != nil {
		t.Fatal(err)
	}
}

// TestLoopbackRefusesOtherHost: a request whose Host is not the
// listener's address (a DNS-rebinding page: evil.example resolving to
// 127.0.0.1) gets neither the start URL's redirect nor the callback.
func TestLoopbackRefusesOtherHost(t *testing.T) {
	c := newTestClient(t, newFakeOP(t), "cern_roles")
	r := runAuthCode(t, c, AuthCodeOptions{}, true)
	a, au := authURLOf(t, r)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, port, _ := strings.Cut(au.Query().Get("redirect_uri"), "127.0.0.1:")
	port, _, _ = strings.Cut(port, "/")
	for _, u := range []string{r.start, au.Query().Get("redirect_uri") + "?error=access_denied&state=" + url.QueryEscape(au.Query().Get("state"))} {
		for _, host := range []string{"evil.example:" + port, "localhost:" + port, "127.0.0.1"} {
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			req.Host = host
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMisdirectedRequest || resp.Header.Get("Location") != "" {
				t.Errorf("%s with Host %s: %d, Location %q", u, host, resp.StatusCode, resp.Header.Get("Location"))
			}
			r.stillWaiting(t, "Host "+host)
		}
	}
	if err := r.finish(t, a); err != nil {
		t.Fatal(err)
	}
}

func TestSameHostPort(t *testing.T) {
	for _, tc := range []struct {
		host, addr string
		want       bool
	}{
		{"127.0.0.1:8250", "127.0.0.1:8250", true},
		{"127.0.0.1:8251", "127.0.0.1:8250", false},
		{"127.0.0.1", "127.0.0.1:80", true},
		{"127.0.0.1", "127.0.0.1:8250", false},
		{"[::1]:8250", "[::1]:8250", true},
		{"[::1]", "[::1]:80", true},
		{"localhost:8250", "127.0.0.1:8250", false},
		{"evil.example:8250", "127.0.0.1:8250", false},
		{"", "127.0.0.1:8250", false},
	} {
		if got := sameHostPort(tc.host, tc.addr); got != tc.want {
			t.Errorf("sameHostPort(%q, %q) = %v", tc.host, tc.addr, got)
		}
	}
}

// authURLOf follows r's start URL to the provider's authorization URL,
// returned as text and parsed.
func authURLOf(t *testing.T, r *running) (string, *url.URL) {
	t.Helper()
	a, err := resolveStart(r.start)
	if err != nil {
		t.Fatal(err)
	}
	au, _ := url.Parse(a)
	return a, au
}
