package elevate

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/oidc"
)

// fakeVault speaks the protocol of Vault's OIDC role flow (auth_url,
// callback with state, code and client_nonce), with an IdP of its own
// that redirects the browser back with a code, and the nomad and consul
// engines' creds paths. Only the protocol: the real Vault and Hydra are
// in cmd/alilogin/e2e.
type fakeVault struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	nonce    string // the client_nonce of auth_url
	state    string
	redirect string
	idpQuery url.Values // what the browser brought to the IdP
	callback url.Values
	revoked  []string
	failMint bool
}

func newFakeVault(t *testing.T) *fakeVault {
	f := &fakeVault{t: t, state: "vault-state"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/auth/oidc/oidc/auth_url", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		_ = json.NewDecoder(r.Body).Decode(&in)
		f.mu.Lock()
		f.nonce, f.redirect = in["client_nonce"], in["redirect_uri"]
		f.mu.Unlock()
		if in["role"] != "ci-attended" || !strings.HasPrefix(in["redirect_uri"], "http://127.0.0.1:") || !strings.HasSuffix(in["redirect_uri"], "/oidc/callback") {
			writeJSON(w, map[string]any{"data": map[string]string{"auth_url": ""}})
			return
		}
		u := f.URL + "/idp/auth?" + url.Values{"state": {f.state}, "max_age": {"60"}, "redirect_uri": {in["redirect_uri"]}, "client_id": {"attended"}}.Encode()
		writeJSON(w, map[string]any{"data": map[string]string{"auth_url": u}})
	})
	mux.HandleFunc("GET /idp/auth", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.idpQuery = r.URL.Query()
		f.mu.Unlock()
		back := r.URL.Query().Get("redirect_uri") + "?" + url.Values{"state": {r.URL.Query().Get("state")}, "code": {"the-code"}}.Encode()
		http.Redirect(w, r, back, http.StatusFound)
	})
	mux.HandleFunc("GET /v1/auth/oidc/oidc/callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f.mu.Lock()
		f.callback = q
		ok := q.Get("state") == f.state && q.Get("code") == "the-code" && q.Get("client_nonce") == f.nonce && f.nonce != ""
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			writeJSON(w, map[string]any{"errors": []string{"invalid state, code or client nonce"}})
			return
		}
		writeJSON(w, map[string]any{"auth": map[string]any{"client_token": "hvs.privileged", "accessor": "acc1", "lease_duration": 600, "policies": []string{"ci-admin"}}})
	})
	mux.HandleFunc("GET /v1/nomad/creds/ci-attended", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Vault-Token") != "hvs.privileged" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		writeJSON(w, map[string]any{"lease_id": "nomad/creds/ci-attended/1", "lease_duration": 600, "data": map[string]string{"secret_id": "b1b2c3d4-0000-4000-8000-000000000001", "accessor_id": "a1"}})
	})
	mux.HandleFunc("GET /v1/consul/creds/ci-attended", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		fail := f.failMint
		f.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
			writeJSON(w, map[string]any{"errors": []string{"consul is down"}})
			return
		}
		writeJSON(w, map[string]any{"lease_id": "consul/creds/ci-attended/1", "lease_duration": 600, "data": map[string]string{"token": "c1c2c3c4-0000-4000-8000-000000000002", "accessor": "a2"}})
	})
	mux.HandleFunc("POST /v1/auth/token/revoke-self", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.revoked = append(f.revoked, r.Header.Get("X-Vault-Token"))
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// followingBrowser opens a URL as a browser would: it follows the
// redirects (start URL → IdP → loopback callback).
type followingBrowser struct{ opened chan string }

func (b followingBrowser) Open(u string) error {
	go func() {
		resp, err := http.Get(u)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		b.opened <- u
	}()
	return nil
}

func testTier() *Tier {
	return &Tier{Profile: "ci", OIDCMount: "oidc", Role: "ci-attended", NomadRole: "ci-attended", ConsulRole: "ci-attended",
		Window: 10 * time.Minute, Uses: 5, MaxAge: 2 * time.Minute, RedirectPath: "/oidc/callback"}
}

func options(t *testing.T, f *fakeVault, b oidc.Browser, stderr io.Writer) Options {
	vc, err := apiclient.For(apiclient.Vault, f.URL, apiclient.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	return Options{Tier: testTier(), Ask: Ask{For: 5 * time.Minute, Uses: 2}, Vault: vc,
		Nomad: issue.Target{Mount: "nomad"}, Consul: issue.Target{Mount: "consul"},
		Loopback: oidc.AuthCodeOptions{Listen: "127.0.0.1:0", Browser: b, Stderr: stderr, Timeout: 30 * time.Second}}
}

// TestElevateAsksVaultForAFreshSignIn: the IdP gets Vault's URL with
// prompt=login added and Vault's own max_age kept; Vault gets back its
// state, the code and the client nonce of the auth_url request; the
// window is what was asked, and the tokens are Vault's.
func TestElevateAsksVaultForAFreshSignIn(t *testing.T) {
	f := newFakeVault(t)
	b := followingBrowser{opened: make(chan string, 1)}
	g, err := Run(context.Background(), options(t, f, b, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := f.idpQuery.Get("prompt"); got != "login" {
		t.Errorf("prompt at the IdP = %q, want login", got)
	}
	if got := f.idpQuery.Get("max_age"); got != "60" {
		t.Errorf("max_age at the IdP = %q, want Vault's 60", got)
	}
	if !strings.HasPrefix(f.redirect, "http://127.0.0.1:") || !strings.HasSuffix(f.redirect, "/oidc/callback") {
		t.Errorf("redirect URI %q", f.redirect)
	}
	if len(f.nonce) < 20 {
		t.Errorf("client nonce %q: too short", f.nonce)
	}
	if g.Vault.Secret.Reveal() != "hvs.privileged" || g.Nomad == nil || g.Consul == nil {
		t.Fatalf("grant %+v", g)
	}
	if g.Uses != 2 || time.Until(g.Until) > 5*time.Minute || time.Until(g.Until) < 4*time.Minute {
		t.Errorf("window until %s with %d uses, want 5m and 2", g.Until, g.Uses)
	}
	if len(f.revoked) != 0 {
		t.Errorf("revoked %v", f.revoked)
	}
}

// TestElevateWithoutAHumanGetsNoToken: a script that runs elevate with
// no one to open the URL (no browser) gets no token: the sign-in times
// out and Vault's callback is never reached.
func TestElevateWithoutAHumanGetsNoToken(t *testing.T) {
	f := newFakeVault(t)
	var stderr strings.Builder
	o := options(t, f, nil, &stderr)
	o.Loopback.Timeout = 300 * time.Millisecond
	g, err := Run(context.Background(), o)
	if err == nil || g != nil || !errors.Is(err, oidc.ErrSignInEnded) {
		t.Fatalf("Run without a human: %v, %+v", err, g)
	}
	if !strings.Contains(stderr.String(), "prompt=login") {
		t.Errorf("the printed URL lacks prompt=login:\n%s", stderr.String())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.callback != nil {
		t.Errorf("Vault's callback was reached: %v", f.callback)
	}
}

// TestElevateRevokesWhenAMintFails: a Consul mint that fails revokes the
// privileged Vault token (and with it the Nomad token minted already).
func TestElevateRevokesWhenAMintFails(t *testing.T) {
	f := newFakeVault(t)
	f.failMint = true
	b := followingBrowser{opened: make(chan string, 1)}
	if _, err := Run(context.Background(), options(t, f, b, io.Discard)); err == nil || !strings.Contains(err.Error(), "consul is down") {
		t.Fatalf("Run with a failing Consul mint: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.revoked) != 1 || f.revoked[0] != "hvs.privileged" {
		t.Errorf("revoked %v, want the privileged token", f.revoked)
	}
}

// TestElevateRefusesARedirectVaultDoesNotAllow: Vault's empty auth_url
// (the role does not allow the redirect URI) is an error that says so,
// before any browser.
func TestElevateRefusesARedirectVaultDoesNotAllow(t *testing.T) {
	f := newFakeVault(t)
	o := options(t, f, nil, io.Discard)
	o.Tier.Role = "other"
	_, err := Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "does not allow the redirect URI") {
		t.Fatalf("Run: %v", err)
	}
}

// TestBoundsOfTheWindow: --for and --uses at most the tier's.
func TestBoundsOfTheWindow(t *testing.T) {
	tier := testTier()
	for _, c := range []struct {
		name  string
		ask   Ask
		d     time.Duration
		uses  int
		isErr bool
	}{
		{"default", Ask{}, 10 * time.Minute, 5, false},
		{"shorter", Ask{For: time.Minute, Uses: 1}, time.Minute, 1, false},
		{"longer", Ask{For: time.Hour}, 0, 0, true},
		{"more uses", Ask{Uses: 6}, 0, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, uses, err := tier.Bounds(c.ask)
			if (err != nil) != c.isErr || d != c.d || uses != c.uses {
				t.Errorf("Bounds(%+v) = %s, %d, %v", c.ask, d, uses, err)
			}
		})
	}
}
