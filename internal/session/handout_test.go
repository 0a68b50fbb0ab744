package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// TestHandoutRenewsVaultForSecretsInOnePass: exec --secret reads with the
// Vault token while its child gets only --for's tokens: one Handout
// brings the Vault token up to date too (one renewal, in the same pass of
// the chain) and hands out only the kinds asked for.
func TestHandoutRenewsVaultForSecretsInOnePass(t *testing.T) {
	var renewals atomic.Int32
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/auth/token/renew-self" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		renewals.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"auth":{"client_token":"hvs.live","accessor":"acc","lease_duration":3600,"renewable":true,"policies":["default"]}}`))
	}))
	defer vault.Close()
	env := testutil.Home(t, nil)
	e, _, _ := testEnv(env)
	st, err := store.Open("", e.Getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rec := &store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice", VaultAddr: testutil.Canonical(t, vault.URL), NomadAddr: testutil.Canonical(t, vault.URL),
		UpdatedAt: now,
		Vault:     &store.Token{Secret: secret.New("hvs.live"), Accessor: "acc", Renewable: true, IssuedAt: now, TTL: time.Hour, ExpiresAt: now.Add(2 * time.Minute)},
		Nomad: &store.Token{Secret: secret.New("0b7c9e4e-0000-4f2e-9c55-1f1f0e9d2a10"), Accessor: "nacc", LeaseID: "nomad/creds/ci/old", Renewable: true,
			IssuedAt: now, TTL: time.Hour, ExpiresAt: now.Add(time.Hour)}}
	if err := st.Put(rec); err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Vault: config.Server{Addr: vault.URL, Mount: "jwt"}, Nomad: config.Server{Addr: vault.URL, Mount: "nomad"}}
	s := &Session{Env: *e, Config: cfg, Store: st, Profile: "ci"}
	h, got, err := s.Handout(context.Background(), EnsureOptions{Kinds: []store.Kind{store.Nomad}, MinTTL: 10 * time.Minute}, true)
	if err != nil {
		t.Fatal(err)
	}
	if n := renewals.Load(); n != 1 {
		t.Errorf("the Vault token was renewed %d times, want once", n)
	}
	if !got.Vault.ValidFor(time.Now(), 10*time.Minute) {
		t.Errorf("the record's Vault token expires at %s: not brought up to date for the secrets", got.Vault.ExpiresAt)
	}
	if len(h.Endpoints) != 1 || h.Endpoints[0].Kind != store.Nomad {
		t.Errorf("handed out %+v, want the Nomad token alone", h.Endpoints)
	}
}
