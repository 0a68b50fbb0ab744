package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/teststack"
)

// hostilePage is a page of another loopback port that tries, in the
// user's browser, to reach the agent's Nomad UI at ORIGIN: fetch with
// and without credentials (cors and no-cors, GET and POST), a form POST,
// an <img>, and a websocket to the exec endpoint. Every path it asks for
// has "hostile" in it; what it could read back is in window.results.
const hostilePage = `<!doctype html><meta charset=utf-8><title>hostile</title>
<iframe name=sink></iframe>
<script>
const O = "ORIGIN", results = [];
function rec(what, v) { results.push(what + ": " + v); }
async function tryFetch(what, path, opts) {
  try { const r = await fetch(O + path, opts); rec(what, r.type + " " + r.status + " " + (await r.text())); }
  catch (e) { rec(what, "error " + e.name); }
}
window.done = (async () => {
  await tryFetch("fetch credentials", "/v1/job/hostile-fetch-credentials", {credentials: "include"});
  await tryFetch("fetch", "/v1/job/hostile-fetch", {credentials: "omit"});
  await tryFetch("fetch no-cors", "/v1/job/hostile-no-cors", {mode: "no-cors", credentials: "include"});
  await tryFetch("fetch no-cors POST", "/v1/job/hostile-post", {mode: "no-cors", credentials: "include", method: "POST", body: '{"Job":{"ID":"hostile"}}'});
  await new Promise(ok => { const i = new Image(); i.onload = () => { rec("img", "loaded"); ok(); }; i.onerror = () => { rec("img", "error"); ok(); }; i.src = O + "/v1/job/hostile-img"; });
  await new Promise(ok => {
    const ws = new WebSocket(O.replace("http:", "ws:") + "/v1/client/allocation/ALLOC/exec?task=t&tty=false&hostile=1&command=" + encodeURIComponent('["/bin/echo","hostile-exec"]'));
    ws.onopen = () => rec("websocket", "open");
    ws.onmessage = m => rec("websocket message", m.data);
    ws.onclose = () => { rec("websocket", "closed"); ok(); };
  });
  const f = document.createElement("form");
  f.method = "POST"; f.action = O + "/v1/job/hostile-form"; f.target = "sink";
  const i = document.createElement("input"); i.name = "Job"; i.value = "hostile"; f.appendChild(i);
  document.body.appendChild(f); f.submit();
  return results;
})();
</script>`

// TestUIRefusesOtherPages: the browser session is this user's and this
// UI's only. A hostile page open in the same browser, served from
// another loopback port (127.0.0.1 and the UI's own host name on another
// port, which is same-site and gets the SameSite=Strict cookie), tries
// fetch with and without credentials, a form POST, an <img> and a
// websocket: every request reaches the agent and is refused there
// (nothing reaches Nomad), and the page reads nothing back. Another uid
// with the one-time link is refused (and the link still works for the
// user); the cookie is HttpOnly, SameSite=Strict, host-only; a guessed
// cookie, a request with Host: attacker.example, the cookie sent by
// another uid, and the cookie replayed after logout are refused; a
// request with neither cookie nor gate gets the page that says to run
// alilogin ui nomad.
func TestUIRefusesOtherPages(t *testing.T) {
	requireRoot(t)
	au, ctx := newAgentUserFor(t, 4*time.Minute)
	alloc := runAgentJob(t, ctx, au)
	link := uiLink(t, au, "nomad")
	route := "127.0.0.1:" + link.Port()

	// Another user of this computer with the link, read from argv.
	nb, err := teststack.NewBrowserAs(nobody, nobody)
	if err != nil {
		t.Fatal(err)
	}
	defer nb.Close()
	if err := nb.Open(ctx, link.String()); err != nil {
		t.Fatal(err)
	}
	if text, _ := nb.Text(ctx); !strings.Contains(text, "serves its own user only") {
		t.Errorf("nobody's browser at the one-time link: %q", text)
	}
	// The user's own browser: the link still works.
	b := uiBrowser(t)
	sess := uiOpen(t, ctx, b, link)
	origin := sess.String()
	if _, err := b.WaitText(ctx, "agentjob"); err != nil {
		t.Fatal(err)
	}
	session := sessionCookie(t, ctx, b, sess.Hostname())

	// Hostile pages, on another port of 127.0.0.1 and of the UI's host
	// name.
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, strings.NewReplacer("ORIGIN", origin, "ALLOC", alloc).Replace(hostilePage))
	}))
	defer hostile.Close()
	hu, _ := url.Parse(hostile.URL)
	for _, page := range []string{hostile.URL + "/", "http://nomad.localhost:" + hu.Port() + "/"} {
		if err := b.Open(ctx, page); err != nil {
			t.Fatal(err)
		}
		var results []string
		if err := b.EvalJSON(ctx, "window.done", &results); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %q", page, results)
		if len(results) < 6 {
			t.Errorf("the hostile page at %s did not try everything: %q", page, results)
		}
		for _, r := range results {
			// What a page may see: an error, an opaque answer (no-cors:
			// status 0, no body), the image's error, the websocket closed.
			if strings.Contains(r, "agentjob") || strings.Contains(r, "hostile-exec") || strings.Contains(r, " 200 ") ||
				strings.Contains(r, "loaded") || strings.Contains(r, ": open") || strings.HasPrefix(r, "websocket message") {
				t.Errorf("the hostile page at %s read: %q", page, r)
			}
		}
		// The form POST goes after the page's promise: wait until it
		// reached the agent.
		waitAudit(t, ctx, au, "the hostile form POST", func(e agent.Event) bool { return e.Path == "/v1/job/hostile-form" })
	}
	// Every hostile request reached the agent and went no further.
	seen := map[string]int{}
	for _, e := range auditEvents(t, au) {
		if strings.Contains(e.Path, "hostile") || strings.HasSuffix(e.Path, "/exec") {
			seen[e.Path]++
			if e.Refused == "" {
				t.Errorf("a hostile request was forwarded: %+v", e)
			}
		}
	}
	for _, p := range []string{"/v1/job/hostile-fetch-credentials", "/v1/job/hostile-fetch", "/v1/job/hostile-no-cors", "/v1/job/hostile-post", "/v1/job/hostile-img", "/v1/job/hostile-form", "/v1/client/allocation/" + alloc + "/exec"} {
		if seen[p] == 0 {
			t.Errorf("no request of the hostile page to %s reached the agent (audit: %v)", p, seen)
		}
	}

	// Requests with the cookie, from this uid: served with the browser's
	// headers, refused with a guessed cookie or another Host.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(host, cookie, site string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+route+"/v1/jobs", nil)
		req.Host = host
		if cookie != "" {
			req.Header.Set("Cookie", agent.UICookie+"="+cookie)
		}
		req.Header.Set("Sec-Fetch-Site", site)
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if st, body := get(sess.Host, session, "same-origin"); st != 200 || !strings.Contains(body, "agentjob") {
		t.Fatalf("the session cookie from this uid: %d %q", st, body)
	}
	guess := make([]byte, 32)
	rand.Read(guess)
	if st, body := get(sess.Host, hex.EncodeToString(guess), "same-origin"); st != http.StatusUnauthorized || !strings.Contains(body, "run: alilogin ui nomad") {
		t.Errorf("a guessed cookie: %d %q", st, body)
	}
	if st, body := get(sess.Host, "", "none"); st != http.StatusUnauthorized || !strings.Contains(body, "run: alilogin ui nomad") {
		t.Errorf("no cookie: %d %q", st, body)
	}
	if st, _ := get("attacker.example:"+link.Port(), session, "same-origin"); st != http.StatusMisdirectedRequest {
		t.Errorf("Host: attacker.example with the cookie: %d, want 421", st)
	}
	if st, _ := get(sess.Host, session, "same-site"); st != http.StatusForbidden {
		t.Errorf("Sec-Fetch-Site: same-site with the cookie: %d, want 403", st)
	}
	// The cookie at the UI's plain host name (the one-time link's) or at
	// a session host name of no live session: nothing is forwarded.
	noSession := "nomad-" + strings.Repeat("a", 26) + ".localhost:" + sess.Port()
	for _, h := range []string{link.Host, noSession} {
		if st, body := get(h, session, "same-origin"); st != http.StatusUnauthorized || !strings.Contains(body, "run: alilogin ui nomad") {
			t.Errorf("the cookie sent to %s: %d %q", h, st, body)
		}
	}
	// The route's own address, without a gate, says what to run too.
	if st, body := get(route, "", "none"); st != http.StatusUnauthorized || !strings.Contains(body, "alilogin ui nomad") {
		t.Errorf("the route without a gate: %d %q", st, body)
	}
	// Another uid with the cookie.
	if st := rawCookieGetAs(t, nobody, route, sess.Host, session); !strings.Contains(st, " 403 ") {
		t.Errorf("the cookie sent by nobody: %q, want 403", st)
	}
	// agent status lists the session, never its host name nor cookie.
	st := au.ok(t, "agent", "status").stdout.String()
	if !strings.Contains(st, "web UI:   nomad  profile "+au.m.profile+", since ") || !strings.Contains(st, "requests") {
		t.Errorf("agent status does not list the browser session:\n%s", st)
	}
	for _, secret := range []string{sess.Hostname(), strings.TrimSuffix(strings.TrimPrefix(sess.Hostname(), "nomad-"), ".localhost"), session} {
		if strings.Contains(st, secret) {
			t.Errorf("agent status shows the session's %q:\n%s", secret, st)
		}
	}
	// A one-time link is used up.
	if err := b.Open(ctx, link.String()); err != nil {
		t.Fatal(err)
	}
	if text, _ := b.Text(ctx); !strings.Contains(text, "already used") {
		t.Errorf("the one-time link opened again: %q", text)
	}

	// After logout, the cookie is dead.
	au.ok(t, "logout", "--profile", au.m.profile)
	if st, body := get(sess.Host, session, "same-origin"); st != http.StatusUnauthorized {
		t.Errorf("the cookie replayed after logout: %d %q", st, body)
	}
}

// sessionCookie is the session cookie of host in b, checked: HttpOnly,
// SameSite=Strict, for that host only.
func sessionCookie(t *testing.T, ctx context.Context, b *teststack.Browser, host string) string {
	t.Helper()
	cookies, err := b.Cookies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found *network.Cookie
	for _, c := range cookies {
		if c.Name == agent.UICookie {
			if found != nil {
				t.Fatalf("two session cookies: %+v and %+v", found, c)
			}
			found = c
		}
	}
	if found == nil {
		t.Fatalf("no session cookie in the browser: %+v", cookies)
	}
	if found.Domain != host || !found.HTTPOnly || found.SameSite != network.CookieSameSiteStrict || found.Path != "/" {
		t.Errorf("the session cookie: domain %q, HttpOnly %v, SameSite %q, path %q; want %s (host only), HttpOnly, Strict, /", found.Domain, found.HTTPOnly, found.SameSite, found.Path, host)
	}
	if len(found.Value) < 64 {
		t.Errorf("the session cookie's value is %d characters; want 256 random bits", len(found.Value))
	}
	return found.Value
}

// rawCookieGetAs sends GET /v1/jobs to addr with Host host and the
// session cookie from bash's /dev/tcp as uid, and returns the status
// line.
func rawCookieGetAs(t *testing.T, uid uint32, addr, host, cookie string) string {
	t.Helper()
	h, port, _ := net.SplitHostPort(addr)
	script := fmt.Sprintf(`exec 3<>/dev/tcp/%s/%s && printf 'GET /v1/jobs HTTP/1.0\r\nHost: %s\r\nSec-Fetch-Site: same-origin\r\nCookie: %s=%s\r\n\r\n' >&3 && head -n 1 <&3`, h, port, host, agent.UICookie, cookie)
	cmd := exec.Command("/bin/bash", "-c", script)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("raw GET as uid %d: %v\n%s", uid, err, out)
	}
	return strings.TrimSpace(string(out))
}
