package agent

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/testutil"
)

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
