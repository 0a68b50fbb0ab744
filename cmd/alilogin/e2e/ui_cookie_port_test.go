package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

// cookiePortPage runs on the UI's own host name at another port
// (nomad.localhost:OTHER, which Chromium resolves to loopback and which
// any local user can listen on). Cookies ignore ports, so the agent's
// host-only cookie for nomad.localhost is the browser's cookie for this
// page's host too: a same-origin fetch (and a navigation the browser
// starts) sends it here, and the server's Set-Cookie replaces it. (The
// agent now sets the cookie on the session's own host name,
// nomad-LABEL.localhost, never on nomad.localhost.)
const cookiePortPage = `<!doctype html><meta charset=utf-8><title>other port</title>
<script>
window.done = (async () => {
  await fetch("/collect", {credentials: "include"});
  document.cookie = "COOKIE=fixed-by-other-port; path=/";
  return document.cookie;
})();
</script>`

// nomadUISession is an agent user's Nomad UI open in a browser of its
// own: a context that ends after d (or with the test), the one-time
// link, the session's URL, the browser and the session cookie's value.
func nomadUISession(t *testing.T, d time.Duration) (ctx context.Context, link, sess *url.URL, b *teststack.Browser, session string) {
	t.Helper()
	au, ctx := newAgentUserFor(t, d)
	link = uiLink(t, au, "nomad")
	b = uiBrowser(t)
	sess = uiOpen(t, ctx, b, link)
	return ctx, link, sess, b, sessionCookie(t, ctx, b, sess.Hostname())
}

// cookieRecorder keeps, of every request a server was sent, its path and
// Cookie header.
type cookieRecorder struct {
	mu   sync.Mutex
	seen []string
}

// recordingServer is a server on 127.0.0.1 (closed when the test ends)
// that records each request, then serves it with h.
func recordingServer(t *testing.T, h http.HandlerFunc) (*cookieRecorder, *httptest.Server) {
	c := &cookieRecorder{}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.seen = append(c.seen, r.URL.Path+" Cookie: "+r.Header.Get("Cookie"))
		c.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return c, s
}

// carrying returns the recorded requests that carried value.
func (c *cookieRecorder) carrying(value string) []string {
	c.mu.Lock()
	got := slices.Clone(c.seen)
	c.mu.Unlock()
	return slices.DeleteFunc(got, func(s string) bool { return !strings.Contains(s, value) })
}

// TestUISessionCookieNotSentToAnotherPortOfUIHost: the browser session's
// cookie stays with the agent. A server on another port of the UI's
// host name (nomad.localhost:OTHER, reachable by any local user who
// binds a loopback port) must not receive the session cookie from the
// user's browser (it can replay it with curl where the agent has no peer
// check: macOS), and its page must not overwrite (fix) the cookie.
func TestUISessionCookieNotSentToAnotherPortOfUIHost(t *testing.T) {
	requireRoot(t)
	ctx, link, sess, b, session := nomadUISession(t, 3*time.Minute)
	rec, other := recordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/collect" {
			// A server's Set-Cookie can replace an HttpOnly cookie, which
			// the page's document.cookie cannot.
			http.SetCookie(w, &http.Cookie{Name: agent.UICookie, Value: "fixed-by-other-port", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, strings.ReplaceAll(cookiePortPage, "COOKIE", agent.UICookie))
	})
	ou, _ := url.Parse(other.URL)
	if err := b.Open(ctx, "http://nomad.localhost:"+ou.Port()+"/"); err != nil {
		t.Fatal(err)
	}
	var res string
	if err := b.EvalJSON(ctx, "window.done", &res); err != nil {
		t.Fatal(err)
	}
	for _, s := range rec.carrying(session) {
		t.Errorf("a server on another port of %s received the session cookie: %q", link.Hostname(), s)
	}
	cookies, err := b.Cookies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The page may set a cookie of that name for its own host; none may
	// replace the session's, nor go to the session's host beside it.
	kept := false
	for _, c := range cookies {
		if c.Name != agent.UICookie {
			continue
		}
		toSession := c.Domain == sess.Hostname() || (strings.HasPrefix(c.Domain, ".") && strings.HasSuffix(sess.Hostname(), c.Domain))
		switch {
		case toSession && c.Value == session:
			kept = true
		case toSession:
			t.Errorf("a page on another port of %s set a session cookie for the session's host %s: %s=%s (domain %s, path %s)", link.Hostname(), sess.Hostname(), c.Name, c.Value, c.Domain, c.Path)
		}
	}
	if !kept {
		t.Errorf("a page on another port of %s replaced the session cookie: %+v", link.Hostname(), cookies)
	}
}

// TestUISessionCookieNotSentAfterALinkFromAnyPage: the user need not
// type the other port's address. Any web page (here one on 127.0.0.1,
// cross-site) sends the browser to nomad.localhost:OTHER; that
// navigation carries no SameSite=Strict cookie, but the page it loads
// is same-site with the agent's UI, and its same-origin fetch carries
// the session cookie to the other port's server.
func TestUISessionCookieNotSentAfterALinkFromAnyPage(t *testing.T) {
	requireRoot(t)
	ctx, link, _, b, session := nomadUISession(t, 3*time.Minute)
	rec, other := recordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if strings.HasPrefix(r.Host, "127.0.0.1:") {
			// Any page: a link (here a script) to the UI host's other port.
			io.WriteString(w, `<!doctype html><script>location = "http://nomad.localhost:"+location.port+"/landed";</script>`)
			return
		}
		io.WriteString(w, `<!doctype html><title>landed</title><script>fetch("/collect", {credentials: "include"}).then(() => document.title = "collected");</script>`)
	})
	if err := b.Open(ctx, other.URL+"/"); err != nil {
		t.Fatal(err)
	}
	collected := testutil.EventuallyEvery(20*time.Second, 200*time.Millisecond, func() bool {
		var title string
		return b.EvalJSON(ctx, "document.title", &title) == nil && title == "collected"
	})
	if !collected {
		t.Fatalf("the other port's page did not finish its requests in 20s (its title never became \"collected\"): nothing was tried")
	}
	t.Logf("the other port's server saw: %q", rec.carrying("")) // every request
	for _, s := range rec.carrying(session) {
		t.Errorf("after a link from another page, a server on another port of %s received the session cookie: %q", link.Hostname(), s)
	}
}
