package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"

	"github.com/alisw/alilogin/internal/termtext"
)

// tokenHeaders are the headers a token travels in, to any of the three
// servers: every one of them is removed from a request before the real
// token is put in, so that a client cannot send a token of its own (or a
// gate) on to a server.
var tokenHeaders = []string{"X-Nomad-Token", "X-Consul-Token", "X-Vault-Token", "Authorization"}

// route is the handler of one server kind's listener.
type route struct {
	a    *Agent
	kind Kind
	host string // the listener's own address, 127.0.0.1:PORT: the only Host accepted
}

// refuse answers a request the agent will not forward, with a one-line
// body, and logs it.
func (rt *route) refuse(w http.ResponseWriter, r *http.Request, ev *Event, status int, msg string) {
	ev.Status, ev.Refused = status, msg
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	n, _ := io.WriteString(w, msg+"\n")
	ev.Bytes = int64(n)
}

func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt.a.handlers.Add(1)
	defer rt.a.handlers.Done()
	start := rt.a.now()
	ev := Event{Time: start, Server: rt.kind, Method: r.Method, Path: r.URL.Path, client: clientOf(r)}
	cw := &countingWriter{ResponseWriter: w}
	defer func() {
		if ev.Status == 0 {
			ev.Status = cw.status
		}
		if ev.Bytes == 0 {
			ev.Bytes = cw.n
		}
		ev.DurationMS = rt.a.now().Sub(start).Milliseconds()
		rt.a.audit.log(ev)
	}()
	rt.serve(cw, r, &ev)
}

func (rt *route) serve(w http.ResponseWriter, r *http.Request, ev *Event) {
	// The web UI has host names of its own (ui.go): the one-time URLs'
	// and each browser session's.
	if h := rt.uiHost(); h != "" {
		if strings.EqualFold(r.Host, h) {
			rt.serveUIPlain(w, r, ev)
			return
		}
		if label, ok := hostLabel(rt.kind, r.Host, rt.host); ok {
			rt.serveUI(w, r, ev, label)
			return
		}
	}
	// DNS rebinding: a page whose host name resolves to 127.0.0.1 sends
	// its own name in Host.
	if r.Host != rt.host {
		rt.refuse(w, r, ev, http.StatusMisdirectedRequest, fmt.Sprintf("refused: this is the alilogin agent's %s route at %s, not %s", rt.kind, rt.host, termtext.Clean(r.Host)))
		return
	}
	// A web page: the CLIs send no Origin, and a page's requests carry
	// one (always for a websocket, fetch and form POSTs). Nothing
	// answers CORS preflights either.
	if o := r.Header.Values("Origin"); len(o) > 0 && !(len(o) == 1 && o[0] == "http://"+rt.host) {
		rt.refuse(w, r, ev, http.StatusForbidden, "refused: a request from a web page (Origin) is not served by the alilogin agent")
		return
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		rt.refuse(w, r, ev, http.StatusForbidden, "refused: a request from a web page (Sec-Fetch-Site) is not served by the alilogin agent")
		return
	}
	gate, err := gateOf(r, rt.kind)
	if err != nil {
		rt.refuse(w, r, ev, http.StatusBadRequest, "refused: "+err.Error())
		return
	}
	entry, ok := rt.a.gates.lookup(gate)
	if gate == "" || !ok || entry.Server != rt.kind {
		what := "no gate"
		if gate != "" {
			what = "an unknown gate"
		}
		msg := fmt.Sprintf("refused: %s; get one with: alilogin exec --agent -- COMMAND, or eval \"$(alilogin env --agent)\"", what)
		if rt.uiHost() != "" {
			msg += fmt.Sprintf("; for the web UI, run: alilogin ui %s", rt.kind)
		}
		rt.refuse(w, r, ev, http.StatusUnauthorized, msg)
		return
	}
	rt.forward(w, r, ev, entry.Profile, nil, entry.Window)
}

// browserRewrite is what the web UI's handler (ui.go) changes in a
// request forwarded for a browser session: the outgoing request (after
// the agent's own rewrite) and the server's answer (after the guard's).
type browserRewrite struct {
	request  func(out *http.Request)
	response func(resp *http.Response) error
	// asset: a file of the UI itself (its HTML, scripts, styles), which
	// goes without a token and past the guard, whose rules are the API's.
	asset bool
}

// forward sends r to the server of profile name with the profile's real
// token, after the guard's check; br, when not nil, adds the web UI's
// rewrites. win, when not 0, is the attended window of an elevated gate:
// its privileged token goes instead, writes are allowed and counted
// (elevated.go), and the window's end cuts the request.
func (rt *route) forward(w http.ResponseWriter, r *http.Request, ev *Event, name string, br *browserRewrite, win uint64) {
	ev.Profile = name
	loggedOut := "refused: the gate's profile was logged out; run: alilogin login --profile " + name
	if br != nil {
		loggedOut = "refused: the session's profile was logged out; run: alilogin login --profile " + name
	}
	p := rt.a.profile(name)
	if p == nil {
		rt.refuse(w, r, ev, http.StatusUnauthorized, loggedOut)
		return
	}
	p.requests.Add(1)
	ctx, done, ok := p.track(r.Context())
	if !ok {
		rt.refuse(w, r, ev, http.StatusUnauthorized, loggedOut)
		return
	}
	defer done()
	r = r.WithContext(ctx)
	creds, up, err := p.current(r.Context(), rt.kind)
	if err != nil {
		p.fail(err.Error())
		switch {
		case errors.Is(err, ErrLoginNeeded), errors.Is(err, ErrNotLoggedIn):
			// The login is gone (a logout the agent was not told of) or
			// only a new one helps: the profile and its gates die here,
			// as at a logout, so that no gate of before comes back to
			// life with the next login.
			rt.a.dropProfile(p, "its login is gone or must be renewed by a new login")
			rt.refuse(w, r, ev, http.StatusUnauthorized, "run: alilogin login --profile "+name)
		case r.Context().Err() != nil:
			ev.Status = 499
		default:
			rt.refuse(w, r, ev, http.StatusBadGateway, "alilogin agent: "+termtext.OneLine(err.Error()))
		}
		return
	}
	var wdw *window
	if win != 0 {
		wdw = p.currentWindow()
		if wdw == nil || wdw.id != win || !rt.a.now().Before(wdw.until) {
			if wdw != nil && wdw.id == win {
				rt.a.endWindow(p, wdw, "its time is up")
			}
			p.fail("the attended window ended")
			rt.refuse(w, r, ev, http.StatusUnauthorized, "refused: the attended window of profile "+name+" has ended; run: alilogin elevate --profile "+name)
			return
		}
		wctx, wdone, ok := wdw.track(r.Context())
		if !ok {
			rt.refuse(w, r, ev, http.StatusUnauthorized, "refused: the attended window of profile "+name+" has ended; run: alilogin elevate --profile "+name)
			return
		}
		defer wdone()
		r = r.WithContext(wctx)
		// The privileged token goes only to the server the window was
		// opened for. A later open with another environment (another
		// NOMAD_ADDR, a re-login against other servers) ends the window:
		// its human signed in for those servers, not these.
		pinned := wdw.ups[rt.kind]
		if pinned == nil || pinned.conf != up.conf {
			rt.a.endWindow(p, wdw, "the profile's servers changed")
			p.fail("the attended window ended: the profile's servers changed")
			rt.refuse(w, r, ev, http.StatusUnauthorized, "refused: the attended window of profile "+name+" has ended: the profile was opened since for other servers; run: alilogin elevate --profile "+name)
			return
		}
		up = pinned
		ev.Elevated = true
		ec := *creds
		ec.Rules.Attended = true
		ec.Tokens = wdw.tokens
		ec.Rules.ReadOnly, ec.Rules.ReadOnlyHint = false, ""
		creds = &ec
	}
	var v Verdict
	if br == nil || !br.asset {
		v = rt.a.guard.Check(r, rt.kind, creds)
	}
	if wdw != nil && v.Refuse == "" && v.Write {
		ok, last := wdw.take()
		if !ok {
			p.fail("the attended window's use budget is spent")
			rt.refuse(w, r, ev, http.StatusForbidden, "refused: the use budget of the attended window of profile "+name+" is spent; run: alilogin elevate --profile "+name)
			return
		}
		if last {
			// The window ends once this last write is answered.
			defer rt.a.endWindow(p, wdw, "its use budget is spent")
		}
	}
	if v.Refuse != "" {
		p.fail(v.Refuse)
		status := v.Status
		if status == 0 {
			status = http.StatusForbidden
		}
		rt.refuse(w, r, ev, status, "alilogin agent: "+v.Refuse)
		return
	}
	release, err := rt.a.limits.get(rt.kind, up.conf.Addr).acquire(r.Context())
	if err != nil {
		if errors.Is(err, errBusy) {
			p.fail(err.Error())
			w.Header().Set("Retry-After", "1")
			rt.refuse(w, r, ev, http.StatusTooManyRequests, "alilogin agent: "+err.Error()+"; try again")
		} else {
			ev.Status = 499 // the client gave up while queued
		}
		return
	}
	defer release()
	target := up.target
	if target == nil {
		rt.refuse(w, r, ev, http.StatusBadGateway, "alilogin agent: the server address is invalid")
		return
	}
	tok := creds.token(rt.kind)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			out := pr.Out
			for _, h := range tokenHeaders {
				out.Header.Del(h)
			}
			// Nothing of the browser's goes on: its origin (Nomad refuses
			// an Origin other than its Host), its cookies.
			out.Header.Del("Origin")
			out.Header.Del("Cookie")
			out.Header.Del("Proxy-Authorization")
			if q := out.URL.Query(); q.Has("token") {
				q.Del("token") // Consul's ?token=
				out.URL.RawQuery = q.Encode()
			}
			if br == nil || !br.asset {
				out.Header.Set(rt.kind.Server().TokenHeader(), tok.Reveal())
			}
			if br != nil && br.request != nil {
				br.request(out)
			}
		},
		Transport:     up.tr,
		FlushInterval: 0,
		BufferPool:    copyBuffers{},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				ev.Status = 499
				return
			}
			msg := termtext.OneLine(err.Error())
			p.fail(msg)
			rt.refuse(w, r, ev, http.StatusBadGateway, fmt.Sprintf("alilogin agent: could not reach %s: %s", rt.kind.Title(), msg))
		},
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Del("Access-Control-Allow-Origin")
			resp.Header.Del("Access-Control-Allow-Credentials")
			if v.Rewrite != nil {
				if err := v.Rewrite(resp); err != nil {
					return err
				}
			}
			if br != nil && br.response != nil {
				if err := br.response(resp); err != nil {
					return err
				}
			}
			if br != nil && !br.asset && creds.Rules.ReadOnly {
				return readOnlyUIAnswer(rt.kind, resp)
			}
			return nil
		},
		ErrorLog: rt.a.errLog,
	}
	rp.ServeHTTP(w, r)
}

// copyBuffers are the buffers ReverseProxy copies answers through, kept
// for the next answer: without them each answer allocates 32 KiB (500
// blocking queries answered at once: 16 MiB of garbage at a time).
type copyBuffers struct{}

var copyBufferPool = sync.Pool{New: func() any { return new([32 << 10]byte) }}

func (copyBuffers) Get() []byte { return copyBufferPool.Get().(*[32 << 10]byte)[:] }

func (copyBuffers) Put(b []byte) {
	if len(b) == 32<<10 {
		copyBufferPool.Put((*[32 << 10]byte)(b))
	}
}

// gateOf is the gate r carries for a server of kind k: in the server's
// token header, an Authorization: Bearer header (Nomad and Vault read
// it; Consul too) or Consul's ?token= query parameter. Two different
// values are an error: which one the server would read is not the
// agent's guess to make.
func gateOf(r *http.Request, k Kind) (string, error) {
	var vals []string
	for _, v := range r.Header.Values(k.Server().TokenHeader()) {
		vals = append(vals, strings.TrimSpace(v))
	}
	for _, v := range r.Header.Values("Authorization") {
		scheme, tok, ok := strings.Cut(strings.TrimSpace(v), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", errors.New("an Authorization header that is no bearer gate")
		}
		vals = append(vals, strings.TrimSpace(tok))
	}
	if k == Consul {
		vals = append(vals, r.URL.Query()["token"]...)
	}
	gate := ""
	for _, v := range vals {
		if v == "" {
			continue
		}
		if gate != "" && v != gate {
			return "", errors.New("two different tokens in one request")
		}
		gate = v
	}
	return gate, nil
}

// countingWriter counts what goes back, for the audit log; it passes
// Flush and Hijack (streams, websockets) through.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (c *countingWriter) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
	c.ResponseWriter.WriteHeader(s)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// Flush is for ReverseProxy's streaming.
func (c *countingWriter) Flush() { _ = http.NewResponseController(c.ResponseWriter).Flush() }

// Hijack is for websocket upgrades.
func (c *countingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if c.status == 0 {
		c.status = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(c.ResponseWriter).Hijack()
}
