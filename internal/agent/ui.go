package agent

import (
	"fmt"
	"html"
	"net/http"
	"strings"

	"github.com/alisw/alilogin/internal/termtext"
)

// UICookie is the name of a web UI's session cookie. Each UI has its own
// host name, and a cookie without Domain is sent to its own host only,
// so the Nomad UI's cookie never goes to the Consul UI (nor to the
// routes' 127.0.0.1).
const UICookie = "alilogin-session"

// uiHost is the web UI's host name on this route, "" when the server has
// no UI served.
func (rt *route) uiHost() string { return UIHost(rt.kind, rt.host) }

// uiPath is where the UI starts on the server.
func uiPath(Kind) string { return "/ui/" }

// serveUI answers a request to the web UI's host name: the one-time URL,
// or a browser session's request, which goes to the server with the
// profile's real token. The rules, for every request (the CLIs' gate
// requests keep theirs, proxy.go):
//   - Host is the UI's own host:port (checked by the caller; DNS
//     rebinding sends another);
//   - fetch metadata: Sec-Fetch-Site is same-origin, or none for a
//     top-level navigation (a typed URL, a bookmark, the one-time URL);
//     every page of another site or port is cross-site or same-site and
//     is refused, whether it fetches, posts a form or loads an <img>;
//   - Origin, when sent, is the UI's own; a websocket must send it;
//   - the session cookie names a live session of this UI;
//   - the answers may not be framed by another page (clickjacking).
//
// Requests without a session get a plain page that says what to run;
// nothing without a session reaches the server.
func (rt *route) serveUI(w http.ResponseWriter, r *http.Request, ev *Event) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("Referrer-Policy", "same-origin")
	origin := "http://" + rt.uiHost()
	site, mode := r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Sec-Fetch-Mode")
	navigation := mode == "navigate" && (r.Method == http.MethodGet || r.Method == http.MethodHead)
	ws := isWebsocket(r)

	if strings.HasPrefix(r.URL.Path, uiStartPrefix) {
		rt.uiStart(w, r, ev, strings.TrimPrefix(r.URL.Path, uiStartPrefix), site, navigation)
		return
	}
	switch {
	case site == "same-origin":
	case site == "none" && navigation:
	case site == "" && ws:
		// Chromium sends no fetch metadata on a websocket handshake;
		// its Origin, which a page cannot forge, is checked below.
	default:
		rt.uiPage(w, r, ev, http.StatusForbidden, "Refused: a request from another web page or site.",
			fmt.Sprintf("The alilogin agent serves the %s web UI only to its own pages. To open it, run: alilogin ui %s", apiOf(rt.kind), rt.kind))
		return
	}
	if o := r.Header.Values("Origin"); (len(o) > 0 || ws) && !(len(o) == 1 && o[0] == origin) {
		rt.uiPage(w, r, ev, http.StatusForbidden, "Refused: a request from another web page (Origin).", "")
		return
	}
	var val string
	if c, err := r.Cookie(UICookie); err == nil {
		val = c.Value
	}
	s, ok := rt.a.ui.lookup(val, rt.kind, rt.a.now())
	if !ok {
		rt.uiPage(w, r, ev, http.StatusUnauthorized, "Not signed in.",
			fmt.Sprintf("run: alilogin ui %s", rt.kind))
		return
	}
	br := rt.browserRewrite()
	if isUIAsset(r) {
		br = &browserRewrite{asset: true}
	}
	rt.forward(w, r, ev, s.profile, br, 0)
}

// isUIAsset: r asks for a file of the UI itself (GET or HEAD of /, /ui,
// /ui/..., /favicon.ico, in plain form: no escapes, no dot segments),
// which the server serves without a token; every other path is the API's
// and goes through the guard with the token.
func isUIAsset(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	p := r.URL.Path
	if r.URL.RawPath != "" || r.URL.EscapedPath() != p || strings.Contains(p, "..") || strings.Contains(p, "//") || strings.Contains(p, "\\") {
		return false
	}
	return p == "/" || p == "/ui" || strings.HasPrefix(p, "/ui/") || p == "/favicon.ico"
}

// uiStart answers a one-time URL: the session cookie and a redirect to
// the UI, once.
func (rt *route) uiStart(w http.ResponseWriter, r *http.Request, ev *Event, id, site string, navigation bool) {
	ev.Path = uiStartPrefix + "…" // the ID is no secret, but the log needs none
	if !navigation || (site != "none" && site != "") {
		rt.uiPage(w, r, ev, http.StatusForbidden, "Open this link from the terminal, not from a web page.",
			fmt.Sprintf("run: alilogin ui %s", rt.kind))
		return
	}
	if site == "" {
		rt.uiPage(w, r, ev, http.StatusForbidden, "This browser sends no fetch metadata (Sec-Fetch-Site).",
			"The alilogin agent needs it to keep other web pages out: use a current Chromium, Firefox or Safari.")
		return
	}
	val, st, res, err := rt.a.ui.useStart(id, rt.kind, rt.a.now(), uiOnce())
	switch {
	case err != nil:
		rt.uiPage(w, r, ev, http.StatusInternalServerError, "Could not sign in.", termtext.OneLine(err.Error()))
		return
	case res == startUnknown:
		rt.uiPage(w, r, ev, http.StatusGone, "This sign-in link is not valid (expired, or from an agent that stopped).",
			fmt.Sprintf("run: alilogin ui %s", rt.kind))
		return
	case res == startUsed:
		ev.Profile = st.profile
		msg := "Each link signs in one browser once. Run alilogin ui again for another."
		if uiOnce() {
			msg = "It was opened twice (a reload, or another program or user of this computer): the session it made was ended. Run alilogin ui again."
		}
		rt.uiPage(w, r, ev, http.StatusGone, "This sign-in link was already used.", msg)
		return
	}
	ev.Profile = st.profile
	http.SetCookie(w, &http.Cookie{Name: UICookie, Value: val, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Location", uiPath(rt.kind))
	w.WriteHeader(http.StatusSeeOther)
	ev.Status = http.StatusSeeOther
}

// uiPage answers with a plain HTML page (a browser shows it; a script
// of another page cannot read it) and logs the refusal.
func (rt *route) uiPage(w http.ResponseWriter, r *http.Request, ev *Event, status int, title, text string) {
	ev.Status, ev.Refused = status, title
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	n, _ := fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>alilogin: %s</title><h1>%s</h1><p>%s</p>\n",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(text))
	ev.Bytes = int64(n)
}

// isWebsocket: r asks for a websocket upgrade.
func isWebsocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}
