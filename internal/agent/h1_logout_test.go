package agent

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/testutil"
)

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
