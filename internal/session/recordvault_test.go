package session

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// TestRecordVaultIgnoresConfiguredCA: logout (and a replacing
// login) revokes the Vault token at the Vault that issued it, and drops
// the configured Vault's server name for it, but keeps the configured
// Vault's CA file as the trust root. VAULT_CACERT belongs to the
// configured (other) Vault, e.g. a dev Vault whose CA sits in a project's
// .envrc with VAULT_ADDR: whoever holds that CA can answer for the
// recorded (production) Vault's address and receives its token in
// revoke-self, where system roots would have refused the handshake.
// Here the "recorded Vault" is a TLS server with a certificate only the
// configured Vault's CA file trusts.
func TestRecordVaultIgnoresConfiguredCA(t *testing.T) {
	var got atomic.Bool
	mitm := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(true)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(mitm.Close)
	ca := filepath.Join(t.TempDir(), "dev-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: mitm.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	exp := now.Add(time.Hour)
	rec := &store.Record{Profile: "ci", VaultAddr: testutil.Canonical(t, mitm.URL),
		Vault: &store.Token{Secret: secret.New("hvs.prod"), IssuedAt: now.Add(-time.Minute), ExpiresAt: exp}}
	// The configuration names another Vault, with its own CA file.
	cfg := &config.Config{Vault: config.Server{Addr: "https://dev-vault.example:8200", TLS: apiclient.TLS{CACert: ca}}}
	if err := revokeVault(context.Background(), cfg, rec); err == nil || got.Load() {
		t.Errorf("the Vault token of the login made at %s was sent there, trusted through the CA file of the configured Vault %s (revoke err %v)",
			rec.VaultAddr, cfg.Vault.Addr, err)
	}
	// What logout says of it: the token was not revoked, and when it
	// expires (logout exits 3 on a warning).
	e, _, _ := testEnv(nil)
	warnings := strings.Join(revokeRecord(context.Background(), *e, cfg, rec), "\n")
	want := "it expires at " + exp.Local().Format(time.RFC3339)
	if !strings.Contains(warnings, "could not revoke the Vault token") || !strings.Contains(warnings, want) || got.Load() {
		t.Errorf("request sent %v, warnings %q: want a warning with %q", got.Load(), warnings, want)
	}
}

// TestRecordVaultNoAddressConfiguredKeepsOwnCA: with no Vault address
// configured (an invalid configuration that logout ignores, an address
// that came from a discovery document not cached), the user's own CA
// file is no other Vault's: logout revokes at the recorded Vault with it.
func TestRecordVaultNoAddressConfiguredKeepsOwnCA(t *testing.T) {
	var got atomic.Bool
	vault := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Vault-Token") == "hvs.own" {
			got.Store(true)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(vault.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vault.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &store.Record{Profile: "ci", VaultAddr: testutil.Canonical(t, vault.URL),
		Vault: &store.Token{Secret: secret.New("hvs.own"), ExpiresAt: time.Now().Add(time.Hour)}}
	cfg := &config.Config{Vault: config.Server{TLS: apiclient.TLS{CACert: ca}}}
	if err := revokeVault(context.Background(), cfg, rec); err != nil || !got.Load() {
		t.Errorf("revoke at the recorded Vault with the user's CA: err %v, token arrived %v", err, got.Load())
	}
}
