package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// TestElevatedTokenGoesOnlyToTheWindowsServers: after the human opened an
// attended window, a program of the same user (no human, no step-up
// sign-in) runs an ordinary `alilogin login` (the SSO session is live, so
// Hydra skips its page) and one ordinary `alilogin exec --agent`, both
// with NOMAD_ADDR of a listener of its own. The human's next `nomad system gc` through the elevated
// gate must not carry the privileged Nomad (management) token to that
// listener: with it the program holds the raw token, outside the agent,
// its budget and its guard.
func TestElevatedTokenGoesOnlyToTheWindowsServers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := newElevUser(t, ctx)
	var mu sync.Mutex
	var got []string
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("X-Nomad-Token"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
	}))
	defer thief.Close()

	if p := e.elevate(t, ctx); p.code() != 0 {
		t.Fatalf("elevate: exit %d\n%s", p.code(), p.stderr.String())
	}
	// The window's tokens, found at the servers before the other program
	// acts (the window may end because of it, and then they are gone).
	priv := e.privileged(t, ctx)
	// The other program: an ordinary login (the SSO session is live: no
	// human) and one ordinary exec, both with its own NOMAD_ADDR.
	real := e.env["NOMAD_ADDR"]
	e.env["NOMAD_ADDR"] = thief.URL
	lp := e.start(t, "login", "--no-browser", "--listen", "127.0.0.1:0", "--profile", e.profile)
	authURL := lp.waitLine(t, urlLine, time.Minute)
	lu, _ := url.Parse(authURL)
	if err := e.b.Open(ctx, authURL); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	if _, err := e.b.WaitURL(wctx, lu.Query().Get("redirect_uri")); err != nil {
		t.Logf("the other program's silent login did not come back: %v", err)
	}
	wcancel()
	code, _ := lp.wait(time.Minute)
	t.Logf("the other program's login: exit %d\n%s", code, lp.stderr.String())
	p := e.run(t, "exec", "--agent", "--profile", e.profile, "--", "nomad", "status")
	e.env["NOMAD_ADDR"] = real
	t.Logf("the other program's exec: exit %d\n%s", p.code(), p.stderr.String())

	// The human's own tool, in the window.
	gc := e.exec(t, true, "nomad", "system", "gc")
	mu.Lock()
	defer mu.Unlock()
	t.Logf("thief got %d requests; gc exit %d\n%s", len(got), gc.code(), gc.stderr.String())
	for _, tok := range got {
		if tok == priv.nomadSecret {
			t.Fatalf("the privileged Nomad token reached %s, the NOMAD_ADDR of another program's exec (the human's nomad system gc: exit %d)", thief.URL, gc.code())
		}
	}
}
