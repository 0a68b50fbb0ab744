package agent

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// uiRoute is the Nomad route of an agent with no profile opened: a
// request that passes the UI's checks reaches forward, which refuses it
// as "logged out" (nothing is forwarded in these tests).
func uiRoute(t *testing.T) *route {
	t.Helper()
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	a := &Agent{o: Options{Now: func() time.Time { return now }}, ui: newUISessions(), guard: AllowAll{},
		profiles: map[string]*profile{}, routes: map[Kind]string{Nomad: "127.0.0.1:4646"}}
	a.audit = newAudit(filepath.Join(t.TempDir(), AuditName), io.Discard)
	t.Cleanup(a.audit.close)
	return &route{a: a, kind: Nomad, host: "127.0.0.1:4646"}
}

// uiRequest is a request to the Nomad UI's host with the headers given
// (name, value pairs).
func uiRequest(method, path string, headers ...string) *http.Request {
	r := httptest.NewRequest(method, "http://nomad.localhost:4646"+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	return r
}

func serve(rt *route, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, r)
	return w
}

// uiSignIn signs a browser in to rt's Nomad UI for profile as the
// browser does: the one-time URL, then the session's first navigation
// at the host name the URL's answer sends it to. It returns that host
// and the cookie.
func uiSignIn(t *testing.T, rt *route, profile string) (string, string) {
	t.Helper()
	id, err := rt.a.ui.newStart(profile, Nomad, rt.a.now())
	if err != nil {
		t.Fatal(err)
	}
	w := serve(rt, uiRequest("GET", uiStartPrefix+id, "Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate"))
	loc, err := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusSeeOther || err != nil || loc.Path != uiEnterPath {
		t.Fatalf("the one-time URL: %d, Location %q", w.Code, w.Header().Get("Location"))
	}
	r := uiRequest("GET", uiEnterPath, "Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate")
	r.Host = loc.Host
	w = serve(rt, r)
	cookies := w.Result().Cookies()
	if w.Code != http.StatusSeeOther || len(cookies) != 1 {
		t.Fatalf("the session's first navigation: %d, cookies %v", w.Code, cookies)
	}
	return loc.Host, cookies[0].Value
}

// TestUIStartSetsTheSessionOnce: the one-time link answers a top-level
// navigation that no page started with a redirect, and no cookie, to the
// session's own host name (nomad-LABEL.localhost:PORT, 128 random bits);
// there the first navigation gets the session cookie (HttpOnly,
// SameSite=Strict, host-only, random) and a redirect to the UI, once. A
// navigation started by a page, a subresource request and a browser
// without fetch metadata get no session, and do not use the link up.
func TestUIStartSetsTheSessionOnce(t *testing.T) {
	rt := uiRoute(t)
	id, err := rt.a.ui.newStart("ci", Nomad, rt.a.now())
	if err != nil {
		t.Fatal(err)
	}
	path := uiStartPrefix + id
	refused := []struct {
		name    string
		headers []string
	}{
		{"started by a page", []string{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"}},
		{"same-site page", []string{"Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "navigate"}},
		{"same-origin page", []string{"Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "navigate"}},
		{"an <img>", []string{"Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "no-cors"}},
		{"no fetch metadata", nil},
	}
	for _, tc := range refused {
		t.Run("start/"+tc.name, func(t *testing.T) {
			w := serve(rt, uiRequest("GET", path, tc.headers...))
			if w.Code != http.StatusForbidden || w.Header().Get("Set-Cookie") != "" || w.Header().Get("Location") != "" {
				t.Errorf("status %d, Set-Cookie %q, Location %q; want 403, no cookie, no redirect", w.Code, w.Header().Get("Set-Cookie"), w.Header().Get("Location"))
			}
		})
	}
	w := serve(rt, uiRequest("GET", path, "Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate"))
	loc, err := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusSeeOther || err != nil || w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("the link: %d, Location %q, Set-Cookie %q", w.Code, w.Header().Get("Location"), w.Header().Get("Set-Cookie"))
	}
	label, ok := strings.CutPrefix(loc.Hostname(), "nomad-")
	if loc.Scheme != "http" || loc.Port() != "4646" || loc.Path != uiEnterPath || !ok || !strings.HasSuffix(label, ".localhost") {
		t.Fatalf("the link sends the browser to %s; want http://nomad-LABEL.localhost:4646%s", loc, uiEnterPath)
	}
	label = strings.TrimSuffix(label, ".localhost")
	if b, err := labelEncoding.DecodeString(label); err != nil || len(b) != 16 || strings.ToLower(label) != label {
		t.Errorf("the label %q is not 128 bits of lowercase base32", label)
	}
	enter := func(headers ...string) *httptest.ResponseRecorder {
		r := uiRequest("GET", uiEnterPath, headers...)
		r.Host = loc.Host
		return serve(rt, r)
	}
	for _, tc := range refused {
		t.Run("enter/"+tc.name, func(t *testing.T) {
			if w := enter(tc.headers...); w.Code != http.StatusForbidden || w.Header().Get("Set-Cookie") != "" {
				t.Errorf("status %d, Set-Cookie %q; want 403 and no cookie", w.Code, w.Header().Get("Set-Cookie"))
			}
		})
	}
	w = enter("Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/" {
		t.Fatalf("the session's first navigation: %d, Location %q", w.Code, w.Header().Get("Location"))
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies %v", cookies)
	}
	c := cookies[0]
	if c.Name != UICookie || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Domain != "" || c.Path != "/" || len(c.Value) != 64 {
		t.Errorf("the cookie: %+v", c)
	}
	if s, ok := rt.a.ui.byLabel(label, Nomad, rt.a.now()); !ok || s.profile != "ci" || !s.signedIn([]string{c.Value}, rt.a.now()) {
		t.Errorf("the session: %+v, %v", s, ok)
	}
	if _, ok := rt.a.ui.byLabel(label, Consul, rt.a.now()); ok {
		t.Error("the Nomad UI's session is valid for the Consul UI")
	}
	if w := enter("Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate"); w.Code != http.StatusGone || w.Header().Get("Set-Cookie") != "" {
		t.Errorf("the session's host entered again: %d, Set-Cookie %q", w.Code, w.Header().Get("Set-Cookie"))
	}
	w = serve(rt, uiRequest("GET", path, "Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate"))
	if w.Code != http.StatusGone || w.Header().Get("Set-Cookie") != "" || w.Header().Get("Location") != "" {
		t.Errorf("the link used again: %d, Set-Cookie %q", w.Code, w.Header().Get("Set-Cookie"))
	}
	// Expired links, and a session's host entered too late.
	id2, _ := rt.a.ui.newStart("ci", Nomad, rt.a.now().Add(-uiStartTTL-time.Second))
	if w := serve(rt, uiRequest("GET", uiStartPrefix+id2, "Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate")); w.Code != http.StatusGone {
		t.Errorf("an expired link: %d", w.Code)
	}
	id3, _ := rt.a.ui.newStart("ci", Nomad, rt.a.now())
	s3, _, _, _ := rt.a.ui.useStart(id3, Nomad, rt.a.now().Add(-uiEnterTTL-time.Second), false)
	r := uiRequest("GET", uiEnterPath, "Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate")
	r.Host = sessionHost(Nomad, s3.label, rt.host)
	if w := serve(rt, r); w.Code != http.StatusGone || w.Header().Get("Set-Cookie") != "" {
		t.Errorf("a session's host entered too late: %d, Set-Cookie %q", w.Code, w.Header().Get("Set-Cookie"))
	}
}

// TestUIRequestsNeedTheUIsOwnPages: with a valid session, only requests
// of the session's own pages, at its own host name, pass the checks (and
// reach forward); another site, a same-site page of another port, a
// foreign Origin (the UI's plain host name too), a websocket without
// Origin, requests without or with a wrong cookie, the cookie sent to
// the UI's plain host name, to another session's host or to a host name
// of no live session are refused before anything is forwarded; the
// refusals cannot be framed.
func TestUIRequestsNeedTheUIsOwnPages(t *testing.T) {
	rt := uiRoute(t)
	host, val := uiSignIn(t, rt, "ci")
	otherHost, otherVal := uiSignIn(t, rt, "ci")
	origin := "http://" + host
	cookie := UICookie + "=" + val
	const passed = "the session's profile was logged out" // forward's refusal: the checks passed
	for _, tc := range []struct {
		name    string
		host    string // "": the session's
		method  string
		headers []string
		want    int
		body    string
	}{
		{"fetch of the UI", "", "GET", []string{"Cookie", cookie, "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "cors"}, 401, passed},
		{"POST of the UI", "", "POST", []string{"Cookie", cookie, "Sec-Fetch-Site", "same-origin", "Origin", origin}, 401, passed},
		{"typed URL", "", "GET", []string{"Cookie", cookie, "Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate"}, 401, passed},
		{"websocket of the UI", "", "GET", []string{"Cookie", cookie, "Upgrade", "websocket", "Connection", "Upgrade", "Origin", origin}, 401, passed},
		{"a tossed cookie beside the session's", "", "GET", []string{"Cookie", UICookie + "=tossed; " + cookie, "Sec-Fetch-Site", "same-origin"}, 401, passed},
		{"another site", "", "GET", []string{"Cookie", cookie, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors"}, 403, "another web page"},
		{"another port of the same host", "", "GET", []string{"Cookie", cookie, "Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "no-cors"}, 403, "another web page"},
		{"none but not a navigation", "", "GET", []string{"Cookie", cookie, "Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "no-cors"}, 403, "another web page"},
		{"POST navigation", "", "POST", []string{"Cookie", cookie, "Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate"}, 403, "another web page"},
		{"no fetch metadata", "", "GET", []string{"Cookie", cookie}, 403, "another web page"},
		{"foreign Origin", "", "POST", []string{"Cookie", cookie, "Sec-Fetch-Site", "same-origin", "Origin", "http://127.0.0.1:9999"}, 403, "Origin"},
		{"the plain host's Origin", "", "POST", []string{"Cookie", cookie, "Sec-Fetch-Site", "same-origin", "Origin", "http://nomad.localhost:4646"}, 403, "Origin"},
		{"websocket of another page", "", "GET", []string{"Cookie", cookie, "Upgrade", "websocket", "Origin", "http://127.0.0.1:9999"}, 403, "Origin"},
		{"websocket without Origin", "", "GET", []string{"Cookie", cookie, "Upgrade", "websocket"}, 403, "Origin"},
		{"no cookie", "", "GET", []string{"Sec-Fetch-Site", "none", "Sec-Fetch-Mode", "navigate"}, 401, "run: alilogin ui nomad"},
		{"a guessed cookie", "", "GET", []string{"Cookie", UICookie + "=" + strings.Repeat("ab", 32), "Sec-Fetch-Site", "same-origin"}, 401, "run: alilogin ui nomad"},
		{"another session's cookie", "", "GET", []string{"Cookie", UICookie + "=" + otherVal, "Sec-Fetch-Site", "same-origin"}, 401, "run: alilogin ui nomad"},
		{"the cookie at another session's host", otherHost, "GET", []string{"Cookie", cookie, "Sec-Fetch-Site", "same-origin"}, 401, "run: alilogin ui nomad"},
		{"the cookie at the plain host", "nomad.localhost:4646", "GET", []string{"Cookie", cookie, "Sec-Fetch-Site", "same-origin"}, 401, "run: alilogin ui nomad"},
		{"the cookie at a host of no session", "nomad-" + strings.Repeat("a", labelLen) + ".localhost:4646", "GET", []string{"Cookie", cookie, "Sec-Fetch-Site", "same-origin"}, 401, "run: alilogin ui nomad"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := uiRequest(tc.method, "/v1/jobs", tc.headers...)
			r.Host = host
			if tc.host != "" {
				r.Host = tc.host
			}
			w := serve(rt, r)
			if w.Code != tc.want || !strings.Contains(w.Body.String(), tc.body) {
				t.Errorf("%d %q; want %d with %q", w.Code, w.Body.String(), tc.want, tc.body)
			}
			if w.Header().Get("X-Frame-Options") != "DENY" || !strings.Contains(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Errorf("the answer may be framed: %v", w.Header())
			}
		})
	}
	// Other Hosts with the cookie: DNS rebinding, and a session's label
	// on another port or under another UI's name.
	for _, h := range []string{"attacker.example:4646", strings.Replace(host, ":4646", ":4647", 1), strings.Replace(host, "nomad-", "consul-", 1), "x." + host} {
		r := uiRequest("GET", "/v1/jobs", "Cookie", cookie, "Sec-Fetch-Site", "same-origin")
		r.Host = h
		if w := serve(rt, r); w.Code != http.StatusMisdirectedRequest {
			t.Errorf("Host: %s: %d, want 421", h, w.Code)
		}
	}
	// The logout of the profile ends the session.
	rt.a.ui.drop("ci")
	r := uiRequest("GET", "/v1/jobs", "Cookie", cookie, "Sec-Fetch-Site", "same-origin")
	r.Host = host
	if w := serve(rt, r); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "run: alilogin ui nomad") {
		t.Errorf("after logout: %d %q", w.Code, w.Body.String())
	}
}

// TestUIStartTwiceEndsTheSessionWithoutPeerCheck: where the agent cannot
// tell who connects, a second use of a link ends the session its first
// use made.
func TestUIStartTwiceEndsTheSessionWithoutPeerCheck(t *testing.T) {
	u := newUISessions()
	now := time.Now()
	id, _ := u.newStart("ci", Nomad, now)
	s, _, res, _ := u.useStart(id, Nomad, now, true)
	if res != startOK {
		t.Fatal(res)
	}
	val, ok, _ := s.enter(now)
	if !ok {
		t.Fatal("could not enter the session")
	}
	if _, _, res, _ := u.useStart(id, Nomad, now, true); res != startUsed {
		t.Fatalf("second use: %v", res)
	}
	if _, ok := u.byLabel(s.label, Nomad, now); ok || s.signedIn([]string{val}, now) {
		t.Error("the first use's session survived the second use")
	}
}

// TestUIAssetsArePlainPaths: the UI's files go without a token; a path
// that could reach the API by a dot segment or an escape, and any other
// method, is the API's.
func TestUIAssetsArePlainPaths(t *testing.T) {
	for path, want := range map[string]bool{
		"/": true, "/ui/": true, "/ui/jobs": true, "/ui/assets/nomad-ui.js": true, "/favicon.ico": true,
		"/v1/jobs": false, "/ui/../v1/acl/token/self": false, "/ui/%2e%2e/v1/acl/token/self": false,
		"/ui/%2fv1": false, "/ui//v1/jobs": false, "/uiv1": false,
	} {
		r := httptest.NewRequest("GET", "http://nomad.localhost:1"+path, nil)
		if got := isUIAsset(r); got != want {
			t.Errorf("isUIAsset(GET %s) = %v, want %v", path, got, want)
		}
	}
	if isUIAsset(httptest.NewRequest("POST", "http://nomad.localhost:1/ui/", nil)) {
		t.Error("a POST is an asset")
	}
}

// TestUINomadNodeAnswerPointsAtTheUI: the node answer's HTTPAddr becomes
// the UI's host, in a gzip answer too; other paths are left alone.
func TestUINomadNodeAnswerPointsAtTheUI(t *testing.T) {
	rt := uiRoute(t)
	br := rt.browserRewrite("nomad-" + strings.Repeat("a", labelLen) + ".localhost:4646")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, `{"ID":"n1","HTTPAddr":"127.0.0.1:4646","Attributes":{"x":"HTTPAddr"},"Big":12345678901234567890}`)
	zw.Close()
	out := httptest.NewRequest("GET", "http://127.0.0.1:4646/v1/node/n1", nil)
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Encoding": {"gzip"}, "Content-Type": {"application/json"}},
		Body: io.NopCloser(&gz), Request: out}
	if err := br.response(resp); err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	want := `{"Attributes":{"x":"HTTPAddr"},"Big":12345678901234567890,"HTTPAddr":"nomad-` + strings.Repeat("a", labelLen) + `.localhost:4646","ID":"n1"}` + "\n"
	if string(body) != want || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("body %s, encoding %q; want %s", body, resp.Header.Get("Content-Encoding"), want)
	}
	// The exec websocket loses ws_handshake; other queries stay.
	ex := httptest.NewRequest("GET", "http://127.0.0.1:4646/v1/client/allocation/a1/exec?task=t&tty=true&ws_handshake=true&command=%5B%22%2Fbin%2Fbash%22%5D", nil)
	br.request(ex)
	if q := ex.URL.Query(); q.Has("ws_handshake") || q.Get("task") != "t" || q.Get("command") != `["/bin/bash"]` {
		t.Errorf("exec query: %s", ex.URL.RawQuery)
	}
	jobs := httptest.NewRequest("GET", "http://127.0.0.1:4646/v1/jobs", nil)
	resp = &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`[{"HTTPAddr":"x"}]`)), Request: jobs}
	if err := br.response(resp); err != nil {
		t.Fatal(err)
	}
	if body, _ := io.ReadAll(resp.Body); string(body) != `[{"HTTPAddr":"x"}]` {
		t.Errorf("another path was rewritten: %s", body)
	}
}
