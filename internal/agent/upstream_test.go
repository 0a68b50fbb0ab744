package agent

import (
	"context"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
)

// heldServer is a TLS server (offering HTTP/2 when h2) that holds every
// request until release is closed, as a server holds blocking queries,
// and counts the connections it has open.
type heldServer struct {
	*httptest.Server
	ca       string // the server's certificate, PEM file
	arrived  chan string
	release  chan struct{}
	open     atomic.Int32
	mostOpen atomic.Int32
}

func newHeldServer(t testing.TB, h2 bool) *heldServer {
	t.Helper()
	s := &heldServer{arrived: make(chan string, 1000), release: make(chan struct{})}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/warm" {
			io.WriteString(w, "ok")
			return
		}
		s.arrived <- r.Proto
		<-s.release
		io.WriteString(w, "ok")
	}))
	s.EnableHTTP2 = h2
	s.Config.ConnState = func(c net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			n := s.open.Add(1)
			for m := s.mostOpen.Load(); n > m && !s.mostOpen.CompareAndSwap(m, n); m = s.mostOpen.Load() {
			}
		case http.StateClosed, http.StateHijacked:
			s.open.Add(-1)
		}
	}
	s.StartTLS()
	s.ca = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(s.ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
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

// hold sends n requests to route k at once and waits until the server
// holds all of them; the returned function releases them and returns
// their statuses.
func (ta *testAgent) hold(t *testing.T, s *heldServer, k Kind, gate string, n int) (protos []string, finish func() []int) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", ta.routes[k]+"/v1/kv/held", nil)
			req.Header.Set(k.Server().TokenHeader(), gate)
			resp, err := c.Do(req)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	timeout := time.After(time.Minute)
	for range n {
		select {
		case p := <-s.arrived:
			protos = append(protos, p)
		case <-timeout:
			t.Fatalf("the server holds %d requests of %d", len(protos), n)
		}
	}
	return protos, func() []int {
		close(s.release)
		wg.Wait()
		return statuses
	}
}

// nomadJobs sends n GETs of /v1/jobs with gate to the Nomad route
// through c, each in its own goroutine; each one's status (0: no
// answer) comes on the channel.
func (ta *testAgent) nomadJobs(c *http.Client, gate string, n int) <-chan int {
	done := make(chan int, n)
	for range n {
		go func() {
			req, _ := http.NewRequest("GET", ta.routes[Nomad]+"/v1/jobs", nil)
			req.Header.Set("X-Nomad-Token", gate)
			resp, err := c.Do(req)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
	}
	return done
}

// waitInFlight waits until n requests to the server at addr are in
// flight in the agent (held or waiting for a connection).
func (ta *testAgent) waitInFlight(t *testing.T, k Kind, addr string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ta.a.limits.get(k, addr).inFlight() < n {
		select {
		case <-ctx.Done():
			t.Fatalf("%d requests in flight in the agent, want %d", ta.a.limits.get(k, addr).inFlight(), n)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// allServed lets the held requests go (finish) and fails unless they and
// the n that waited for a connection (waited) are answered 200, with at
// most capN connections to s open at once.
func (s *heldServer) allServed(t *testing.T, finish func() []int, waited <-chan int, n, capN int) {
	t.Helper()
	for i, st := range finish() {
		if st != 200 {
			t.Errorf("request %d: %d", i, st)
		}
	}
	for range n {
		if st := <-waited; st != 200 {
			t.Errorf("a request that waited for a connection: %d", st)
		}
	}
	if m := s.mostOpen.Load(); m > int32(capN) {
		t.Errorf("%d connections to the server at once, want at most %d", m, capN)
	}
}

// openAgent starts an agent whose profile's servers are all s, and
// opens the profile: the agent and the gates.
func (s *heldServer) openAgent(t *testing.T) (*testAgent, map[Kind]string) {
	t.Helper()
	ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) { return tlsCreds(s), nil }}})
	return ta, ta.open(t)
}

func tlsCreds(s *heldServer) *Creds {
	c := credsFor(s.URL, time.Now(), time.Hour)
	for _, k := range Kinds {
		c.Servers[k] = Upstream{Addr: s.URL, TLS: apiclient.TLS{CACert: s.ca}}
	}
	return c
}

// TestUpstreamHoldsManyRequestsOnHTTP2: to a server that offers HTTP/2
// over TLS (Consul 1.16 does), 250 requests held at once (blocking
// queries) all reach the server, over HTTP/2, on a handful of
// connections once one is open: far below the servers' per-client cap
// (Consul: 200). (Requests that all start before the first connection
// is up may each dial one; connCaps bounds those.)
func TestUpstreamHoldsManyRequestsOnHTTP2(t *testing.T) {
	s := newHeldServer(t, true)
	ta, g := s.openAgent(t)
	if st, body := ta.do(t, Consul, "/warm", func(r *http.Request) { r.Header.Set("X-Consul-Token", g[Consul]) }); st != 200 {
		t.Fatalf("%d %s", st, body)
	}
	protos, finish := ta.hold(t, s, Consul, g[Consul], 250)
	for _, p := range protos {
		if p != "HTTP/2.0" {
			t.Fatalf("a request reached the server over %s, want HTTP/2.0", p)
		}
	}
	if n := s.mostOpen.Load(); n > 4 {
		t.Errorf("%d connections open to the server at once for 250 requests over HTTP/2", n)
	}
	for i, st := range finish() {
		if st != 200 {
			t.Errorf("request %d: %d", i, st)
		}
	}
}

// TestUpstreamKeepsBelowTheServersConnectionCap: to a server that speaks
// HTTP/1.1 only (Nomad 1.6.1), where each request in flight holds a
// connection, the agent opens at most connCaps connections; the requests
// beyond wait for one, and all are answered.
func TestUpstreamKeepsBelowTheServersConnectionCap(t *testing.T) {
	old := connCaps[Nomad]
	connCaps[Nomad] = 3
	defer func() { connCaps[Nomad] = old }()
	s := newHeldServer(t, false)
	ta, g := s.openAgent(t)
	protos, finish := ta.hold(t, s, Nomad, g[Nomad], 3)
	if protos[0] != "HTTP/1.1" {
		t.Fatalf("over %s, want HTTP/1.1", protos[0])
	}
	// Three more: they wait for a connection, none is opened.
	done := ta.nomadJobs(&http.Client{}, g[Nomad], 3)
	ta.waitInFlight(t, Nomad, s.URL, 6)
	if n := s.mostOpen.Load(); n != 3 {
		t.Errorf("%d connections to the server at once, want 3 (the cap)", n)
	}
	s.allServed(t, finish, done, 3, 3)
}

// TestUpstreamStaysOnHTTP1WhenHTTP2Logs: with GODEBUG=http2debug (Go's
// HTTP/2 code would print the real token it sends), the agent speaks
// HTTP/1.1 to every server.
func TestUpstreamStaysOnHTTP1WhenHTTP2Logs(t *testing.T) {
	// Go's HTTP/2 code logs when GODEBUG merely contains
	// "http2debug=1" or "http2debug=2" (net/http h2_bundle.go), whatever
	// stands before it or after the digit.
	for godebug, want := range map[string]bool{"": false, "http2debug=1": true, "x=1,http2debug=2": true, "http2debug=0": false, "http2client=0": false,
		"xhttp2debug=1": true, "http2debug=10": true, "a=http2debug=2": true, " http2debug=1 ": true} {
		if got := http2Logs(godebug); got != want {
			t.Errorf("http2Logs(%q) = %v, want %v", godebug, got, want)
		}
	}
	t.Setenv("GODEBUG", "http2debug=1")
	s := newHeldServer(t, true)
	ta, g := s.openAgent(t)
	protos, finish := ta.hold(t, s, Consul, g[Consul], 1)
	if protos[0] != "HTTP/1.1" {
		t.Errorf("with GODEBUG=http2debug=1, over %s, want HTTP/1.1", protos[0])
	}
	finish()
}
