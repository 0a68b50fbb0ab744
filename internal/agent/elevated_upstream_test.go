package agent

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// envLoader is a loader whose Nomad address follows the opener's
// environment, as SessionLoader's does (config.FromEnv: NOMAD_ADDR wins
// over the config file and the discovery).
type envLoader struct{ up string }

func (l envLoader) Load(_ context.Context, _ string, env []string, _ []Kind) (*Creds, error) {
	c := credsFor(l.up, time.Now(), time.Hour)
	c.Rules.ReadOnly, c.Rules.ReadOnlyHint = true, "profile p writes only inside an attended window; run: alilogin elevate --profile p"
	if v := EnvLookup(env)("NOMAD_ADDR"); v != "" {
		u := c.Servers[Nomad]
		u.Addr = v
		c.Servers[Nomad] = u
	}
	return c, nil
}

func (envLoader) Stored(context.Context, string, []string) (bool, error) { return true, nil }

// TestPrivilegedTokenGoesOnlyToTheServersOfItsWindow: an attended window
// is opened for the profile's servers; another process of the user that
// re-opens the profile with its own environment (NOMAD_ADDR of a
// listener of its own) must not make the agent send the privileged Nomad
// token there. Otherwise the raw token leaves the agent's memory: no use
// budget, no guard (it can make a hand-made management token, which
// outlives the window and which the reaper spares).
func TestPrivilegedTokenGoesOnlyToTheServersOfItsWindow(t *testing.T) {
	up := newUpstream(t)
	thief := newUpstream(t)
	ta := startAgent(t, Options{Loader: envLoader{up: up.URL}, Guard: Rules{}})
	ta.open(t)
	g := ta.elevateP(t, time.Now().Add(time.Hour), 0, Vault, Nomad)

	// Another process of the user: no sign-in, one control request.
	a, err := Call(context.Background(), ta.dir, Request{Op: "open", Profile: "p", Env: []string{"NOMAD_ADDR=" + thief.URL}})
	if err != nil {
		t.Fatal(err)
	}
	_ = a // refused or not: what matters is where the privileged token goes

	// The human's own tool, with the elevated gate it was given.
	st, body := ta.write(t, Nomad, g[Nomad], "/v1/system/gc")
	for _, r := range thief.got() {
		if strings.Contains(r.Header.Get("X-Nomad-Token"), "priv-nomad") {
			t.Fatalf("the privileged Nomad token reached %s, the server of a later opener's environment (answer %d %q)", thief.URL, st, body)
		}
	}
	if st != http.StatusOK && st != http.StatusUnauthorized {
		t.Errorf("the elevated write: %d %q", st, body)
	}
}
