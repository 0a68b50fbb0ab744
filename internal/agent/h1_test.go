package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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
	ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) { return tlsCreds(s), nil }}})
	g := ta.open(t)
	capN := connCaps[Nomad]
	protos, finish := ta.hold(t, s, Nomad, g[Nomad], capN)
	if len(protos) != capN {
		t.Fatalf("%d held", len(protos))
	}
	if h := ta.h1Of(t, Nomad); h.open != h1Conns || h.std.MaxConnsPerHost != capN-h1Conns {
		t.Errorf("h1 holds %d connections, net/http may open %d; want %d and %d", h.open, h.std.MaxConnsPerHost, h1Conns, capN-h1Conns)
	}
	extra := make(chan int, 2)
	for range 2 {
		go func() {
			req, _ := http.NewRequest("GET", ta.routes[Nomad]+"/v1/jobs", nil)
			req.Header.Set("X-Nomad-Token", g[Nomad])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				extra <- 0
				return
			}
			resp.Body.Close()
			extra <- resp.StatusCode
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ta.a.limits.get(Nomad, s.URL).inFlight() < capN+2 {
		select {
		case <-ctx.Done():
			t.Fatalf("%d requests in flight", ta.a.limits.get(Nomad, s.URL).inFlight())
		case <-time.After(5 * time.Millisecond):
		}
	}
	if n := s.mostOpen.Load(); n != int32(capN) {
		t.Errorf("%d connections at once, want %d (the cap)", n, capN)
	}
	for i, st := range finish() {
		if st != 200 {
			t.Errorf("request %d: %d", i, st)
		}
	}
	for range 2 {
		if st := <-extra; st != 200 {
			t.Errorf("a request that waited: %d", st)
		}
	}
	if n := s.mostOpen.Load(); n > int32(capN) {
		t.Errorf("%d connections at once, want at most %d", n, capN)
	}
}
