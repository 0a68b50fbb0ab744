package main

// Review 9a: the Vault token follows the configuration, not the login.

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// TestReviewVaultTokenStaysWithItsVault: a login made at one Vault, and a
// configuration that now names another Vault address (VAULT_ADDR in a
// shell, the config file, or the broker's discovery document, which
// Resolve reads on every command that needs the network). The record does
// not say which Vault issued its token, so `alilogin logout` (here) and
// the renewal chain of `alilogin token` (renew-self, lookup, lease
// renewals; after step 4 the fresh ID token in the JWT login body, which
// the real Vault would accept) send it to whatever address is configured
// now. Issue 9 item 2 bound the refresh token to its issuer for exactly
// this case ("a changed discovery document"); the trust rule says "no
// changed configuration and no discovery document moves a secret
// elsewhere", and nothing binds the Vault token, nor the Nomad and Consul
// tokens, to the origin that issued them.
func TestReviewVaultTokenStaysWithItsVault(t *testing.T) {
	other := hostile.NewServer(hostile.ErrorBody(http.StatusNoContent, "application/json", ""))
	t.Cleanup(other.Close)
	e, _, _ := testEnv(nil)
	now := time.Now()
	e.Now = func() time.Time { return now }
	vaultTok := secret.New("hvs.login-made-at-the-real-vault")
	rec := &store.Record{Profile: "ci", Issuer: "https://sso.example", ClientID: "alilogin", Subject: "s",
		Vault: &store.Token{Secret: vaultTok, Accessor: "acc", IssuedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}}
	// The configuration of the logout names another Vault.
	cfg := &config.Config{Vault: config.Server{Addr: other.URL}}
	_ = revokeRecord(context.Background(), e, cfg, rec)
	for _, r := range other.Requests() {
		if r.Header.Get("X-Vault-Token") == vaultTok.Reveal() {
			t.Errorf("the Vault token of the login went to %s (%s %s), an address the login was not made with", other.URL, r.Method, r.Path)
		}
	}
}
