package agent

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/testutil"
)

// attendedAgent is an agent with the real guard whose profile p is
// read-only through its ordinary gates (as a profile with an attended
// tier is: guard.FromConfig), every server at up.
func attendedAgent(t *testing.T, up *fakeServer) (*testAgent, *fakeLoader) {
	t.Helper()
	fl := &fakeLoader{next: func(int) (*Creds, error) {
		c := credsFor(up.URL, time.Now(), time.Hour)
		c.Rules.ReadOnly, c.Rules.ReadOnlyHint = true, "profile p writes only inside an attended window; run: alilogin elevate --profile p"
		return c, nil
	}}
	fl.stored.Store(true)
	return startAgent(t, Options{Loader: fl, Guard: Rules{}}), fl
}

// elevateP opens a window for p with the privileged tokens "priv-K" of
// kinds, until until, with budget uses, and returns its gates.
func (ta *testAgent) elevateP(t *testing.T, until time.Time, uses int, kinds ...Kind) map[Kind]string {
	t.Helper()
	e := &Elevation{Until: until, Uses: uses}
	for _, k := range kinds {
		e.Tokens = append(e.Tokens, WireToken{Server: k, Secret: "priv-" + string(k), ExpiresAt: until})
	}
	return ta.gates(t, Request{Op: "elevate", Profile: "p", Elevation: e})
}

func (ta *testAgent) write(t *testing.T, k Kind, gate, path string) (int, string) {
	return ta.do(t, k, path, func(r *http.Request) {
		r.Method = http.MethodPut
		r.Header.Set(k.Server().TokenHeader(), gate)
	})
}

// revoked reports whether up was asked to revoke the Vault token tok.
func revoked(up *fakeServer, tok string) bool {
	for _, r := range up.got() {
		if r.URL.Path == "/v1/auth/token/revoke-self" && r.Header.Get("X-Vault-Token") == tok {
			return true
		}
	}
	return false
}

// sentWith is how many requests to path reached up with the token tok in
// header h.
func sentWith(up *fakeServer, path, h, tok string) int {
	n := 0
	for _, r := range up.got() {
		if r.URL.Path == path && r.Header.Get(h) == tok {
			n++
		}
	}
	return n
}

// TestElevatedGateWritesWithinItsBudget: the ordinary gate of a profile
// with an attended tier is refused a write; the elevated gate's writes
// go with the privileged token, reads do not count, and the write that
// spends the budget ends the window: the Vault token is revoked and the
// elevated gate is refused from then on.
func TestElevatedGateWritesWithinItsBudget(t *testing.T) {
	up := newUpstream(t)
	ta, _ := attendedAgent(t, up)
	ordinary := ta.open(t)
	if st, body := ta.write(t, Nomad, ordinary[Nomad], "/v1/system/gc"); st != http.StatusForbidden || !strings.Contains(body, "alilogin elevate --profile p") {
		t.Fatalf("a write with the ordinary gate: %d %q, want 403 naming alilogin elevate", st, body)
	}
	g := ta.elevateP(t, time.Now().Add(time.Hour), 2, Vault, Nomad)
	if g[Nomad] == "" || g[Vault] == "" || g[Consul] != "" {
		t.Fatalf("elevated gates %v: want one for vault and nomad only", g)
	}
	if st, body := ta.write(t, Nomad, g[Nomad], "/v1/system/gc"); st != http.StatusOK {
		t.Fatalf("first write with the elevated gate: %d %q", st, body)
	}
	if st, _ := ta.do(t, Nomad, "/v1/jobs", func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) }); st != http.StatusOK {
		t.Fatalf("a read with the elevated gate: %d", st)
	}
	a, err := Call(context.Background(), ta.dir, Request{Op: "status"})
	if err != nil || len(a.Status.Profiles) != 1 || a.Status.Profiles[0].Window == nil || a.Status.Profiles[0].Window.Left != 1 {
		t.Fatalf("status after one write: %v %+v", err, a.Status)
	}
	if revoked(up, "priv-vault") {
		t.Fatal("the Vault token was revoked before the budget was spent")
	}
	if st, body := ta.write(t, Nomad, g[Nomad], "/v1/system/gc"); st != http.StatusOK {
		t.Fatalf("second write with the elevated gate: %d %q", st, body)
	}
	if n := sentWith(up, "/v1/system/gc", "X-Nomad-Token", "priv-nomad"); n != 2 {
		t.Errorf("%d writes reached Nomad with the privileged token, want 2", n)
	}
	if n := sentWith(up, "/v1/system/gc", "X-Nomad-Token", "real-nomad"); n != 0 {
		t.Errorf("%d writes reached Nomad with the ordinary token", n)
	}
	testutil.WaitFor(t, 10*time.Second, "the revocation of the privileged Vault token", func() bool { return revoked(up, "priv-vault") })
	if st, body := ta.write(t, Nomad, g[Nomad], "/v1/system/gc"); st != http.StatusUnauthorized {
		t.Errorf("a write after the budget: %d %q, want 401", st, body)
	}
	if n := sentWith(up, "/v1/system/gc", "X-Nomad-Token", "priv-nomad"); n != 2 {
		t.Errorf("%d writes reached Nomad with the privileged token, want 2", n)
	}
	a, _ = Call(context.Background(), ta.dir, Request{Op: "elevated", Profile: "p"})
	if a.Error == "" || len(a.Gates) != 0 {
		t.Errorf("elevated gates after the window: %+v", a)
	}
}

// TestAttendedWindowEndsAtItsTime: with no request at all, the window's
// end revokes its Vault token, and its gates are refused after it.
func TestAttendedWindowEndsAtItsTime(t *testing.T) {
	up := newUpstream(t)
	ta, _ := attendedAgent(t, up)
	ta.open(t)
	g := ta.elevateP(t, time.Now().Add(500*time.Millisecond), 0, Vault, Consul)
	testutil.WaitFor(t, 10*time.Second, "the revocation at the window's end", func() bool { return revoked(up, "priv-vault") })
	if st, body := ta.write(t, Consul, g[Consul], "/v1/kv/x"); st != http.StatusUnauthorized {
		t.Errorf("a write after the window: %d %q, want 401", st, body)
	}
	if n := sentWith(up, "/v1/kv/x", "X-Consul-Token", "priv-consul"); n != 0 {
		t.Errorf("a write after the window reached Consul")
	}
}

// TestElevateEndCutsTheWindowsStreams: elevate --end (the "end" request)
// revokes the Vault token and ends a stream opened with an elevated
// gate; the profile's ordinary stream goes on.
func TestElevateEndCutsTheWindowsStreams(t *testing.T) {
	up := newUpstream(t)
	var mu sync.Mutex
	streams := map[string]context.Context{} // by token
	up.hook = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/event/stream" {
			io.WriteString(w, "ok")
			return
		}
		mu.Lock()
		streams[r.Header.Get("X-Nomad-Token")] = r.Context()
		mu.Unlock()
		io.WriteString(w, "{}\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
	stream := func(tok string) context.Context { mu.Lock(); defer mu.Unlock(); return streams[tok] }
	ta, _ := attendedAgent(t, up)
	ordinary := ta.open(t)
	g := ta.elevateP(t, time.Now().Add(time.Hour), 0, Vault, Nomad)
	open := func(gate string) *bufio.Reader {
		r, _ := http.NewRequest("GET", ta.routes[Nomad]+"/v1/event/stream", nil)
		r.Header.Set("X-Nomad-Token", gate)
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		br := bufio.NewReader(resp.Body)
		if _, err := br.ReadString('\n'); err != nil {
			t.Fatalf("the stream's first line: %v", err)
		}
		return br
	}
	elev := open(g[Nomad])
	open(ordinary[Nomad])
	a, err := Call(context.Background(), ta.dir, Request{Op: "end", Profile: "p"})
	if err != nil || a.Error != "" || a.Window == nil {
		t.Fatalf("end: %v %+v", err, a)
	}
	if !revoked(up, "priv-vault") {
		t.Error("end did not revoke the privileged Vault token")
	}
	if _, err := elev.ReadString('\n'); err == nil {
		t.Error("the elevated stream goes on after the window's end")
	}
	testutil.WaitFor(t, 10*time.Second, "the end of the elevated stream at Nomad", func() bool { return stream("priv-nomad").Err() != nil })
	if err := stream("real-nomad").Err(); err != nil {
		t.Errorf("the ordinary stream ended with the window: %v", err)
	}
}

// TestLogoutEndsTheAttendedWindow: a logout (sync with the login gone)
// ends the window and revokes its token.
func TestLogoutEndsTheAttendedWindow(t *testing.T) {
	up := newUpstream(t)
	ta, fl := attendedAgent(t, up)
	ta.open(t)
	ta.elevateP(t, time.Now().Add(time.Hour), 0, Vault)
	fl.stored.Store(false)
	if _, err := Call(context.Background(), ta.dir, Request{Op: "sync"}); err != nil {
		t.Fatal(err)
	}
	if !revoked(up, "priv-vault") {
		t.Error("the logout did not revoke the privileged Vault token")
	}
}

// TestAgentStopEndsTheAttendedWindow: the agent's stop revokes the
// window's token (nothing privileged outlives the agent that held it).
func TestAgentStopEndsTheAttendedWindow(t *testing.T) {
	up := newUpstream(t)
	ta, _ := attendedAgent(t, up)
	ta.open(t)
	ta.elevateP(t, time.Now().Add(time.Hour), 0, Vault)
	ta.stop()
	if !revoked(up, "priv-vault") {
		t.Error("the agent's stop did not revoke the privileged Vault token")
	}
}
