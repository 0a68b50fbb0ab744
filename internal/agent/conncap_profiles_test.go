package agent

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/testutil"
)

// nomadPerClientConns is Nomad 1.6's limit on one client address's
// connections (limits.http_max_conns_per_client); beyond it Nomad
// answers 429 or closes.
const nomadPerClientConns = 100

// TestTwoProfilesToOneNomadStayWithinItsPerClientConnections: the agent
// is one client address to a Nomad, whatever profile a request comes
// through. connCaps bounds each profile's transport (80 for Nomad), the
// limiter per server address bounds requests (512), not connections:
// two profiles of the user with the same Nomad (two roles on one
// cluster) holding blocking queries opened 160 connections to it. The
// agent's connection slots are per server address (serverConns).
func TestTwoProfilesToOneNomadStayWithinItsPerClientConnections(t *testing.T) {
	s := newHeldServer(t, false)
	ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) { return tlsCreds(s), nil }}})
	gates := map[string]string{}
	for _, p := range []string{"p", "q"} {
		a, err := Call(context.Background(), ta.dir, Request{Op: "open", Profile: p})
		if err != nil || a.Error != "" {
			t.Fatalf("open %s: %v %s", p, err, a.Error)
		}
		for _, x := range a.Gates {
			if x.Server == Nomad {
				gates[p] = x.Gate
			}
		}
	}
	n := connCaps[Nomad]
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * n}}
	var wg sync.WaitGroup
	for _, p := range []string{"p", "q"} {
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("GET", ta.routes[Nomad]+"/v1/jobs?index=9", nil)
				req.Header.Set("X-Nomad-Token", gates[p])
				if resp, err := c.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
		}
	}
	defer func() { close(s.release); wg.Wait() }()
	// Every request is in the agent, and the slots of the server's
	// address are all taken: a request still without a connection
	// waits for a slot, so no connection can be added any more.
	lim := ta.a.limits.get(Nomad, s.URL)
	slots := serverConns.of(Nomad, strings.TrimPrefix(s.URL, "https://"))
	testutil.WaitFor(t, time.Minute, "all requests in the agent and every connection slot taken", func() bool {
		return lim.inFlight() == 2*n && len(slots) == cap(slots)
	})
	if most := s.mostOpen.Load(); most > nomadPerClientConns {
		t.Fatalf("%d connections at once to one Nomad from the agent (%d requests held through two profiles); Nomad allows one client %d", most, lim.inFlight(), nomadPerClientConns)
	}
}
