package agent

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/testutil"
)

// h1Of is the h1 transport of profile p's route k.
func (ta *testAgent) h1Of(t *testing.T, k Kind) *h1 {
	t.Helper()
	p := ta.a.profile("p")
	if p == nil {
		t.Fatal("profile p is not open")
	}
	h, ok := p.upstream(k).tr.(*h1)
	if !ok {
		t.Fatalf("the %s route's transport is %T, want *h1", k, p.upstream(k).tr)
	}
	return h
}

// TestSmallGETsGoOneByOneOnOneKeptConnection: sequential GETs through
// the agent take h1's path (the request's own goroutine writes it and
// reads the answer) on one kept-alive connection to the server.
func TestSmallGETsGoOneByOneOnOneKeptConnection(t *testing.T) {
	u := newUpstream(t)
	ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) { return credsFor(u.URL, time.Now(), time.Hour), nil }}})
	g := ta.open(t)
	for i := range 20 {
		if st, body := ta.do(t, Nomad, fmt.Sprintf("/v1/jobs?i=%d", i), func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) }); st != 200 || body != "ok" {
			t.Fatalf("GET %d: %d %q", i, st, body)
		}
	}
	conns := map[string]bool{}
	for _, r := range u.got() {
		conns[r.RemoteAddr] = true
	}
	if len(conns) != 1 {
		t.Errorf("%d connections for 20 GETs one after another, want 1", len(conns))
	}
	h := ta.h1Of(t, Nomad)
	h.mu.Lock()
	idle, open := len(h.idle), h.open
	h.mu.Unlock()
	if idle != 1 || open != 1 {
		t.Errorf("h1 holds %d connections, %d idle; want its one kept connection", open, idle)
	}
	for _, r := range u.got() {
		if r.Header.Get("X-Nomad-Token") != "real-nomad" || r.Header.Get("Origin") != "" {
			t.Fatalf("the server got token %q", r.Header.Get("X-Nomad-Token"))
		}
	}
}

// rawServer answers each request with answer(i, request) as raw bytes,
// i counting connections, and closes the connection after one answer
// when closeAfter.
func rawServer(t *testing.T, answer func(conn int, req *http.Request) string, closeAfter bool) (addr string, conns *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	conns = new(atomic.Int32)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			i := int(conns.Add(1))
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					if _, err := io.WriteString(c, answer(i, req)); err != nil || closeAfter {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String(), conns
}

// TestGETIsSentAgainWhenTheServerClosedTheIdleConnection: a server that
// closes a kept-alive connection after its answer (as servers do after
// their idle timeout) costs the next GET nothing: it goes again on a
// new connection.
func TestGETIsSentAgainWhenTheServerClosedTheIdleConnection(t *testing.T) {
	addr, conns := rawServer(t, func(i int, _ *http.Request) string {
		return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nconn%d", i)
	}, true)
	ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) { return credsFor(addr, time.Now(), time.Hour), nil }}})
	g := ta.open(t)
	set := func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) }
	for i := 1; i <= 3; i++ {
		// The server closed connection i-1 after its answer: GET i
		// finds it closed (at its write or its read) and goes on a new
		// one.
		if st, body := ta.do(t, Nomad, "/v1/jobs", set); st != 200 || body != fmt.Sprintf("conn%d", i) {
			t.Fatalf("GET %d: %d %q", i, st, body)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
}

// TestPartlyReadAnswerIsNotFollowedOnItsConnection: an answer closed
// before its end (a client gone, an answer the guard refused to pass
// on) takes its connection with it: the next request on it would read
// the rest of the first answer.
func TestPartlyReadAnswerIsNotFollowedOnItsConnection(t *testing.T) {
	big := strings.Repeat("x", 4<<20)
	addr, conns := rawServer(t, func(_ int, r *http.Request) string {
		if r.URL.Path == "/big" {
			return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(big), big)
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmall"
	}, false)
	target, _ := url.Parse(addr)
	h := newH1(&http.Transport{MaxConnsPerHost: 80}, target)
	get := func(path string) *http.Response {
		r, _ := http.NewRequest("GET", addr+path, nil)
		resp, err := h.RoundTrip(r)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := get("/big")
	buf := make([]byte, 10)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for i := range 5 {
		resp := get("/small")
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(b) != "small" {
			t.Fatalf("GET %d after a partly read answer: %q %v", i, b, err)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (the partly read answer's is not reused)", n)
	}
}

// TestEndedRequestClosesItsServerConnection: a request held by the
// server (a blocking query) whose client goes away ends at the server
// too: its connection is closed, and the next request is served.
func TestEndedRequestClosesItsServerConnection(t *testing.T) {
	arrived, gone := make(chan struct{}, 1), make(chan struct{}, 1)
	u := newUpstream(t)
	u.hook = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/jobs" {
			io.WriteString(w, "ok")
			return
		}
		arrived <- struct{}{}
		<-r.Context().Done() // the server saw its connection end
		gone <- struct{}{}
	}
	ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) { return credsFor(u.URL, time.Now(), time.Hour), nil }}})
	g := ta.open(t)
	ctx, cancel := context.WithCancel(context.Background())
	r, _ := http.NewRequestWithContext(ctx, "GET", ta.routes[Nomad]+"/v1/jobs?index=7", nil)
	r.Header.Set("X-Nomad-Token", g[Nomad])
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("the request did not reach the server")
	}
	cancel()
	<-done
	select {
	case <-gone:
	case <-time.After(30 * time.Second):
		t.Fatal("the server's connection stayed open after its client went away")
	}
	if st, body := ta.do(t, Nomad, "/next", func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) }); st != 200 || body != "ok" {
		t.Fatalf("the next request: %d %q", st, body)
	}
}

// TestHugeAnswerHeaderIsRefused: a server whose answer header does not
// end gets a 502 from the agent, which reads at most h1HeaderMax of it.
func TestHugeAnswerHeaderIsRefused(t *testing.T) {
	addr, _ := rawServer(t, func(int, *http.Request) string {
		return "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("a", 3<<20) + "\r\nContent-Length: 2\r\n\r\nok"
	}, true)
	ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) { return credsFor(addr, time.Now(), time.Hour), nil }}})
	g := ta.open(t)
	st, body := ta.do(t, Nomad, "/v1/jobs", func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) })
	if st != http.StatusBadGateway || !strings.Contains(body, "larger than") {
		t.Fatalf("%d %q, want 502 saying the header is too large", st, body)
	}
}

// TestInterimAnswersBeforeTheAnswerArePassedOver: 1xx answers (103
// Early Hints) before the real one do not end the request.
func TestInterimAnswersBeforeTheAnswerArePassedOver(t *testing.T) {
	addr, _ := rawServer(t, func(int, *http.Request) string {
		return "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nreal"
	}, false)
	ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) { return credsFor(addr, time.Now(), time.Hour), nil }}})
	g := ta.open(t)
	if st, body := ta.do(t, Nomad, "/v1/jobs", func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) }); st != 200 || body != "real" {
		t.Fatalf("%d %q", st, body)
	}
}

// TestH1AndNetHTTPTogetherKeepBelowTheConnectionCap: with a cap large
// enough to share (h1 takes h1Conns of it), requests held at once open
// at most the cap in connections, h1's and net/http's together; the
// next ones wait for a connection.
func TestH1AndNetHTTPTogetherKeepBelowTheConnectionCap(t *testing.T) {
	old := connCaps[Nomad]
	connCaps[Nomad] = 2*h1Conns + 4
	defer func() { connCaps[Nomad] = old }()
	s := newHeldServer(t, false)
	ta, g := s.openAgent(t)
	capN := connCaps[Nomad]
	protos, finish := ta.hold(t, s, Nomad, g[Nomad], capN)
	if len(protos) != capN {
		t.Fatalf("%d held", len(protos))
	}
	if h := ta.h1Of(t, Nomad); h.open != h1Conns || h.std.MaxConnsPerHost != capN-h1Conns {
		t.Errorf("h1 holds %d connections, net/http may open %d; want %d and %d", h.open, h.std.MaxConnsPerHost, h1Conns, capN-h1Conns)
	}
	extra := ta.nomadJobs(http.DefaultClient, g[Nomad], 2)
	ta.waitInFlight(t, Nomad, s.URL, capN+2)
	if n := s.mostOpen.Load(); n != int32(capN) {
		t.Errorf("%d connections at once, want %d (the cap)", n, capN)
	}
	s.allServed(t, finish, extra, 2, capN)
}

// A server that sends more than its answer (a second answer for one
// request, a body longer than its Content-Length, a body after a 204 or
// after the answer to a HEAD) leaves bytes on the connection. net/http's
// Transport sees bytes arrive on an idle connection ("Unsolicited
// response received on idle HTTP channel") and closes it; a connection
// that goes back to the pool with them serves them to the next request
// as its answer: request B gets what the server sent for request A.
var surplusAnswers = []struct {
	name, method, first string
}{
	{"a second answer to one GET", "GET",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA" +
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"},
	{"a body longer than its Content-Length", "GET",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"},
	{"a body after a 204", "GET",
		"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"},
	{"a body after a 304", "GET",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 38\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"},
	{"a body to a HEAD", "HEAD",
		"HTTP/1.1 200 OK\r\nContent-Length: 38\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"},
}

func surplusServer(t *testing.T, first string) string {
	addr, _ := rawServer(t, func(_ int, r *http.Request) string {
		if r.URL.Path == "/a" {
			return first
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"
	}, false)
	return addr
}

// TestAnswerBeyondItsEndIsNotReadAsTheNextRequestsAnswer: through the
// agent, GET /b after a request whose answer had more bytes than the
// answer gets the server's answer to /b, not the surplus.
func TestAnswerBeyondItsEndIsNotReadAsTheNextRequestsAnswer(t *testing.T) {
	for _, c := range surplusAnswers {
		t.Run(c.name, func(t *testing.T) {
			addr := surplusServer(t, c.first)
			ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) { return credsFor(addr, time.Now(), time.Hour), nil }}})
			g := ta.open(t)
			r, _ := http.NewRequest(c.method, ta.routes[Nomad]+"/a", nil)
			r.Header.Set("X-Nomad-Token", g[Nomad])
			resp, err := http.DefaultTransport.RoundTrip(r)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			st, body := ta.do(t, Nomad, "/b", func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) })
			if st != 200 || body != "b" {
				t.Fatalf("GET /b after %s: %d %q, want 200 \"b\" (the answer to /b)", c.name, st, body)
			}
		})
	}
}

// TestH1DoesNotReadSurplusAsTheNextAnswer: the same at h1's level.
func TestH1DoesNotReadSurplusAsTheNextAnswer(t *testing.T) {
	for _, c := range surplusAnswers {
		t.Run(c.name, func(t *testing.T) {
			addr := surplusServer(t, c.first)
			target, _ := url.Parse(addr)
			h := newH1(&http.Transport{MaxConnsPerHost: 80}, target)
			defer h.CloseIdleConnections()
			r, _ := http.NewRequest(c.method, addr+"/a", nil)
			resp, err := h.RoundTrip(r)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			r, _ = http.NewRequest("GET", addr+"/b", nil)
			resp, err = h.RoundTrip(r)
			if err != nil {
				t.Fatalf("GET /b: %v", err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "b" {
				t.Fatalf("GET /b after %s: %q, want \"b\"", c.name, b)
			}
		})
	}
}

// TestHostileAnswersEndInTheAgentsErrorNotInTheNextRequest: answers h1
// must not take for a good one, each followed by GET /b, which gets its
// own answer.
func TestHostileAnswersEndInTheAgentsErrorNotInTheNextRequest(t *testing.T) {
	for _, c := range []struct {
		name, first string
		status      int
		body        string
		closeAfter  bool // the server closes after each answer
	}{
		{"a flood of 1xx", strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 50000) + "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA", 502, "", false},
		{"an unasked 101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale", 502, "", false},
		{"HTTP/1.0 without a length", "HTTP/1.0 200 OK\r\n\r\nA", 200, "A", true},
		{"Connection: close, then more", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale", 200, "A", false},
		{"chunked with a trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n1\r\nA\r\n0\r\nX-T: v\r\n\r\n", 200, "A", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr, _ := rawServer(t, func(_ int, r *http.Request) string {
				if r.URL.Path == "/a" {
					return c.first
				}
				return "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"
			}, c.closeAfter)
			ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) { return credsFor(addr, time.Now(), time.Hour), nil }}})
			g := ta.open(t)
			set := func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) }
			st, body := ta.do(t, Nomad, "/a", set)
			if st != c.status || c.body != "" && body != c.body {
				t.Fatalf("GET /a: %d %q, want %d %q", st, body, c.status, c.body)
			}
			if st, body := ta.do(t, Nomad, "/b", set); st != 200 || body != "b" {
				t.Fatalf("GET /b: %d %q", st, body)
			}
		})
	}
}

// countedServer is a plain-HTTP server that counts its open
// connections; GET /held waits for release.
type countedServer struct {
	*httptest.Server
	open    atomic.Int32
	arrived chan struct{}
	release chan struct{}
}

func newCountedServer(t *testing.T, idle time.Duration) *countedServer {
	s := &countedServer{arrived: make(chan struct{}, 10), release: make(chan struct{})}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/held" {
			s.arrived <- struct{}{}
			select {
			case <-s.release:
			case <-r.Context().Done(): // the client closed the connection
				return
			}
		}
		io.WriteString(w, "ok")
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.open.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.open.Add(-1)
		}
	}
	s.Config.IdleTimeout = idle
	s.Start()
	t.Cleanup(func() {
		select {
		case <-s.release:
		default:
			close(s.release)
		}
		s.Close()
	})
	return s
}

// TestConnectionToAReplacedServerIsClosedWhenItsRequestEnds: a request
// held by server 1 (a blocking query) while the profile is re-opened
// for server 2 (a new login with another NOMAD_ADDR) must not leave its
// connection to server 1 in a pool nobody uses any more: the replaced
// transport's h1 is never marked closed (h1.closed is read, never set),
// and h1 has no idle timer (net/http closes an idle connection after
// IdleConnTimeout), so the connection stays open for the agent's life.
func TestConnectionToAReplacedServerIsClosedWhenItsRequestEnds(t *testing.T) {
	s1, s2 := newCountedServer(t, 0), newCountedServer(t, 0)
	var gen atomic.Int32
	gen.Store(1)
	watch := func() (string, bool) { return string(rune('0' + gen.Load())), true }
	ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) {
		addr, g := s1.URL, "1"
		if gen.Load() == 2 {
			addr, g = s2.URL, "2"
		}
		c := credsFor(addr, time.Now(), time.Hour)
		c.Gen, c.Watch = g, watch
		return c, nil
	}}})
	g := ta.open(t)
	set := func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) }
	done := make(chan int, 1)
	go func() {
		r, _ := http.NewRequestWithContext(context.Background(), "GET", ta.routes[Nomad]+"/held", nil)
		set(r)
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			done <- 0
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	select {
	case <-s1.arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("the held request did not reach server 1")
	}
	gen.Store(2) // the stored login changed: the next request re-opens for server 2
	if st, body := ta.do(t, Nomad, "/v1/jobs", set); st != 200 || body != "ok" {
		t.Fatalf("GET after the change: %d %q", st, body)
	}
	if s2.open.Load() == 0 {
		t.Fatal("server 2 was not used")
	}
	close(s1.release)
	if st := <-done; st != 200 {
		t.Fatalf("the held request: %d", st)
	}
	if !testutil.Eventually(5*time.Second, func() bool { return s1.open.Load() == 0 }) {
		t.Fatalf("%d connection(s) to server 1, which the profile no longer uses, still open 5 s after their request ended", s1.open.Load())
	}
}

// TestIdleConnectionTheServerClosedIsLetGo: a kept-alive connection the
// server closes while idle (its idle timeout: Nomad's, a load balancer's)
// is closed by the agent too; h1 only looks at its idle connections when
// a request takes one, so each stays an open descriptor (CLOSE_WAIT)
// until then, 16 per profile and server. net/http's reader sees the EOF
// and closes it at once.
func TestIdleConnectionTheServerClosedIsLetGo(t *testing.T) {
	s := newCountedServer(t, 200*time.Millisecond)
	ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) { return credsFor(s.URL, time.Now(), time.Hour), nil }}})
	g := ta.open(t)
	if st, _ := ta.do(t, Nomad, "/v1/jobs", func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) }); st != 200 {
		t.Fatal(st)
	}
	if !testutil.Eventually(5*time.Second, func() bool { return s.open.Load() == 0 }) {
		t.Fatal("the server did not close its idle connection")
	}
	h := ta.h1Of(t, Nomad)
	if !testutil.Eventually(3*time.Second, func() bool { h.mu.Lock(); defer h.mu.Unlock(); return h.open == 0 }) {
		h.mu.Lock()
		defer h.mu.Unlock()
		t.Fatalf("h1 still holds %d connection(s) (%d idle) the server closed seconds ago", h.open, len(h.idle))
	}
}

// TestLogoutClosesTheProfilesIdleAndBusyServerConnections: at logout
// (drop) the profile's connections to the server end, the idle one h1
// keeps and the one a held request (a blocking query) is on.
func TestLogoutClosesTheProfilesIdleAndBusyServerConnections(t *testing.T) {
	s := newCountedServer(t, 0)
	ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) { return credsFor(s.URL, time.Now(), time.Hour), nil }}})
	g := ta.open(t)
	set := func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		r, _ := http.NewRequestWithContext(context.Background(), "GET", ta.routes[Nomad]+"/held", nil)
		set(r)
		if resp, err := http.DefaultTransport.RoundTrip(r); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	select {
	case <-s.arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("the held request did not reach the server")
	}
	if st, _ := ta.do(t, Nomad, "/v1/jobs", set); st != 200 {
		t.Fatal(st)
	}
	if n := s.open.Load(); n != 2 {
		t.Fatalf("%d connections before the logout, want 2 (one idle, one held)", n)
	}
	if a, err := Call(context.Background(), ta.dir, Request{Op: "drop", Profile: "p"}); err != nil || a.Error != "" {
		t.Fatalf("drop: %v %s", err, a.Error)
	}
	<-done
	if !testutil.Eventually(5*time.Second, func() bool { return s.open.Load() == 0 }) {
		t.Fatalf("%d connection(s) to the server still open after the logout", s.open.Load())
	}
}

func testClientCert(t *testing.T) *clientcert.Cert {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	tpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "alice"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	return &clientcert.Cert{CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		Key: secret.New(string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}))), NotAfter: now.Add(time.Hour), IssuedAt: now}
}

// TestTokenAndClientCertificateGoOnlyToAServerTheConfiguredCAAndNameAccept:
// h1 does its own TLS handshake: to a server whose certificate the
// configured CA did not sign, or that is not the configured name, no
// request (no token) is sent and the login's client certificate is not
// presented; to the right server both are.
func TestTokenAndClientCertificateGoOnlyToAServerTheConfiguredCAAndNameAccept(t *testing.T) {
	var reqs, certs atomic.Int32
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		io.WriteString(w, "ok")
	}))
	s.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, VerifyConnection: func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) > 0 {
			certs.Add(1)
		}
		return nil
	}}
	s.StartTLS()
	defer s.Close()
	dir := t.TempDir()
	write := func(name string, s *httptest.Server) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rightCA := write("right.pem", s)
	// (every httptest server has the same certificate: another CA is
	// made here)
	wrongCA := filepath.Join(dir, "wrong.pem")
	if err := os.WriteFile(wrongCA, []byte(testClientCert(t).CertPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	port := s.URL[strings.LastIndex(s.URL, ":")+1:]
	cert := testClientCert(t)
	for _, c := range []struct {
		name, addr, ca string
		ok             bool
	}{
		{"another CA", s.URL, wrongCA, false},
		{"another name", "https://localhost:" + port, rightCA, false},
		{"the configured server", s.URL, rightCA, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			reqs.Store(0)
			certs.Store(0)
			ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) {
				cr := credsFor(c.addr, time.Now(), time.Hour)
				cr.Cert = cert
				for _, k := range Kinds {
					cr.Servers[k] = Upstream{Addr: c.addr, TLS: apiclient.TLS{CACert: c.ca}, RecordCert: true}
				}
				return cr, nil
			}}})
			g := ta.open(t)
			for range 3 {
				st, body := ta.do(t, Nomad, "/v1/jobs", func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) })
				if c.ok && (st != 200 || body != "ok") || !c.ok && st != http.StatusBadGateway {
					t.Fatalf("%d %q", st, body)
				}
			}
			if _, isH1 := ta.a.profile("p").upstream(Nomad).tr.(*h1); !isH1 {
				t.Fatal("not h1")
			}
			if c.ok && (reqs.Load() != 3 || certs.Load() == 0) {
				t.Fatalf("the configured server got %d requests, %d client certificates", reqs.Load(), certs.Load())
			}
			if !c.ok && (reqs.Load() != 0 || certs.Load() != 0) {
				t.Fatalf("a server the configuration refuses got %d requests and %d client certificates", reqs.Load(), certs.Load())
			}
		})
	}
}
