package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// urlFollower is a stderr that, once the sign-in URL is printed, opens it
// (the hostile provider sends the browser straight back with a code).
type urlFollower struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	once sync.Once
}

var signInURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+/auth\?\S+`)

func (u *urlFollower) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	n, err := u.buf.Write(p)
	if m := signInURL.FindString(u.buf.String()); m != "" {
		u.once.Do(func() {
			go func() {
				if resp, err := http.Get(m); err == nil {
					resp.Body.Close()
				}
			}()
		})
	}
	return n, err
}

func (u *urlFollower) String() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.buf.String()
}

// TestLoginRevokesOldTokenAtItsVault: a user logged in to the production
// Vault runs `VAULT_ADDR=https://test-vault alilogin login --profile ci`
// (or the broker's discovery document now names another Vault). The new
// login replaces the record and revokes the previous Vault token at the
// Vault that issued it (the record's address), never at the Vault
// configured now. A previous record that does not say which Vault (an
// earlier alilogin) keeps its token unsent, with a warning.
func TestLoginRevokesOldTokenAtItsVault(t *testing.T) {
	for _, tc := range []struct {
		name     string
		recorded bool // the previous record names its Vault
	}{
		{"previous login at another Vault", true},
		{"previous record of an earlier version", false},
	} {
		t.Run(tc.name, func(t *testing.T) { testLoginRevokesOldToken(t, tc.recorded) })
	}
}

func testLoginRevokesOldToken(t *testing.T, recorded bool) {
	p := hostile.NewOIDCProvider(hostile.OIDCOptions{Claims: map[string]any{"cern_upn": "alice", "cern_roles": []string{"alice-ci"}}})
	t.Cleanup(p.Close)
	var mu sync.Mutex
	var got []string // X-Vault-Token values the new Vault received
	newVault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if v := r.Header.Get("X-Vault-Token"); v != "" {
			got = append(got, v)
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/login"):
			_, _ = w.Write([]byte(`{"auth":{"client_token":"hvs.new-test-vault-token","accessor":"acc-new","lease_duration":3600,"renewable":true,"policies":["default"]}}`))
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(newVault.Close)
	prodVault := hostile.NewServer(hostile.ErrorBody(http.StatusNoContent, "application/json", ""))
	t.Cleanup(prodVault.Close)

	env := testutil.Home(t, map[string]string{"ALILOGIN_CLIENT_ID": "alilogin", "ALILOGIN_ISSUER": p.Issuer, "VAULT_ADDR": newVault.URL})
	getenv := func(k string) string { return env[k] }
	st := openFileStore(t, env)
	now := time.Now()
	prod := secret.New("hvs.production-vault-token")
	old := &store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice", Issuer: p.Issuer, ClientID: "alilogin", Subject: "alice",
		Vault: &store.Token{Secret: prod, Accessor: "acc-prod", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}, UpdatedAt: now}
	if recorded {
		old.VaultAddr = testutil.Canonical(t, prodVault.URL)
	}
	if err := st.Put(old); err != nil {
		t.Fatal(err)
	}

	stderr := &urlFollower{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := run(ctx, []string{"login", "--profile", "ci", "--no-browser", "--listen", "127.0.0.1:0", "--timeout", "10s"},
		&cmdEnv{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: stderr, Getenv: getenv})
	if code != 0 {
		t.Fatalf("login: exit %d\n%s", code, stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	for _, v := range got {
		if v == prod.Reveal() {
			t.Errorf("the production Vault token of the previous login went to %s", newVault.URL)
		}
	}
	if prodVault.SentHeader("X-Vault-Token", prod.Reveal()) != recorded {
		t.Errorf("revoked at the Vault that issued it: %v, want %v", !recorded, recorded)
	}
	if !recorded && !strings.Contains(stderr.String(), "was not revoked") {
		t.Errorf("stderr %q does not warn that the previous token was not revoked", stderr.String())
	}
	rec, err := st.Get("ci")
	if err != nil {
		t.Fatal(err)
	}
	if want := testutil.Canonical(t, newVault.URL); rec.VaultAddr != want {
		t.Errorf("the new record's VaultAddr = %q, want %q", rec.VaultAddr, want)
	}
}
