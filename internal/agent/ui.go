package agent

import (
	"fmt"
	"html"
	"net/http"
	"strings"

	"github.com/alisw/alilogin/internal/termtext"
)

// UICookie is the name of a web UI's session cookie. It is host-only
// (no Domain) on the session's own host name (nomad-LABEL.localhost,
// uisession.go), so it goes to no other UI, no other session, and no
// other port of nomad.localhost.
const UICookie = "alilogin-session"

// uiHost is the web UI's plain host name on this route (where the
// one-time URLs are), "" when the server has no UI served.
func (rt *route) uiHost() string { return UIHost(rt.kind, rt.host) }

// uiPath is where the UI starts on the server.
func uiPath(Kind) string { return "/ui/" }

// setUIHeaders: no answer to a browser may be framed by another page
// (clickjacking), nor tell another site where it came from.
func setUIHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("Referrer-Policy", "same-origin")
}

// serveUIPlain answers a request to the UI's plain host name
// (nomad.localhost:PORT): the one-time URL, else a page that says what
// to run. Nothing on this host name reaches the server, and no cookie is
// set for it.
func (rt *route) serveUIPlain(w http.ResponseWriter, r *http.Request, ev *Event) {
	setUIHeaders(w)
	if id, ok := strings.CutPrefix(r.URL.Path, uiStartPrefix); ok {
		site, mode := r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Sec-Fetch-Mode")
		rt.uiStart(w, r, ev, id, site, mode == "navigate" && (r.Method == http.MethodGet || r.Method == http.MethodHead))
		return
	}
	rt.uiPage(w, r, ev, http.StatusUnauthorized, "Not signed in.", fmt.Sprintf("run: alilogin ui %s", rt.kind))
}

// serveUI answers a request to a browser session's host name
// (nomad-LABEL.localhost:PORT): the session's first navigation, or a
// request of the session, which goes to the server with the profile's
// real token. The rules, for every request (the CLIs' gate requests keep
// theirs, proxy.go):
//   - Host names a live session of this UI (checked by the caller for
//     its form, here for the session; DNS rebinding sends another name);
//   - fetch metadata: Sec-Fetch-Site is same-origin, or none for a
//     top-level navigation (a typed URL, a bookmark, the one-time URL);
//     every page of another site or port is cross-site or same-site and
//     is refused, whether it fetches, posts a form or loads an <img>;
//   - Origin, when sent, is the session's own; a websocket must send it;
//   - the session cookie is that session's;
//   - the answers may not be framed by another page (clickjacking).
//
// Requests without a session get a plain page that says what to run;
// nothing without a session reaches the server. The session's requests
// in flight end with it (uisession.go).
func (rt *route) serveUI(w http.ResponseWriter, r *http.Request, ev *Event, label string) {
	setUIHeaders(w)
	now := rt.a.now()
	s, ok := rt.a.ui.byLabel(label, rt.kind, now)
	if !ok {
		rt.uiPage(w, r, ev, http.StatusUnauthorized, "Not signed in: this web UI session has ended.",
			fmt.Sprintf("run: alilogin ui %s", rt.kind))
		return
	}
	ev.Profile = s.profile
	host := sessionHost(rt.kind, label, rt.host)
	site, mode := r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Sec-Fetch-Mode")
	navigation := mode == "navigate" && (r.Method == http.MethodGet || r.Method == http.MethodHead)
	ws := isWebsocket(r)

	if r.URL.Path == uiEnterPath {
		rt.uiEnter(w, r, ev, s, site, navigation)
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
			fmt.Sprintf("The alilogin agent serves the %s web UI only to its own pages. To open it, run: alilogin ui %s", rt.kind.Title(), rt.kind))
		return
	}
	if o := r.Header.Values("Origin"); (len(o) > 0 || ws) && !(len(o) == 1 && o[0] == "http://"+host) {
		rt.uiPage(w, r, ev, http.StatusForbidden, "Refused: a request from another web page (Origin).", "")
		return
	}
	var vals []string
	for _, c := range r.Cookies() {
		if c.Name == UICookie {
			vals = append(vals, c.Value)
		}
	}
	if !s.signedIn(vals, now) {
		rt.uiPage(w, r, ev, http.StatusUnauthorized, "Not signed in.",
			fmt.Sprintf("run: alilogin ui %s", rt.kind))
		return
	}
	ctx, done, ok := s.track(r.Context())
	if !ok {
		rt.uiPage(w, r, ev, http.StatusUnauthorized, "Not signed in: this web UI session has ended.",
			fmt.Sprintf("run: alilogin ui %s", rt.kind))
		return
	}
	defer done()
	r = r.WithContext(ctx)
	br := rt.browserRewrite(host)
	if br == nil {
		br = &browserRewrite{} // a browser session's request all the same (proxy.go)
	}
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

// uiStart answers a one-time URL: a new session, and a redirect to its
// own host name, once.
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
	s, st, res, err := rt.a.ui.useStart(id, rt.kind, rt.a.now(), uiOnce())
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
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Location", "http://"+sessionHost(rt.kind, s.label, rt.host)+uiEnterPath)
	w.WriteHeader(http.StatusSeeOther)
	ev.Status = http.StatusSeeOther
}

// uiEnter answers the session's first navigation to its own host name
// (the start URL's redirect): the session cookie, host-only on that
// name, and a redirect to the UI, once.
func (rt *route) uiEnter(w http.ResponseWriter, r *http.Request, ev *Event, s *uiSession, site string, navigation bool) {
	if !navigation || site != "none" {
		rt.uiPage(w, r, ev, http.StatusForbidden, "Open the sign-in link from the terminal, not from a web page.",
			fmt.Sprintf("run: alilogin ui %s", rt.kind))
		return
	}
	val, ok, err := s.enter(rt.a.now())
	switch {
	case err != nil:
		rt.uiPage(w, r, ev, http.StatusInternalServerError, "Could not sign in.", termtext.OneLine(err.Error()))
		return
	case !ok:
		rt.uiPage(w, r, ev, http.StatusGone, "This sign-in link was already used, or waited too long.",
			fmt.Sprintf("run: alilogin ui %s", rt.kind))
		return
	}
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
