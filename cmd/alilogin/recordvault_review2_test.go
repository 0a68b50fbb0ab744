package main

import (
	"bytes"
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
)

// TestReview2RecordVaultIgnoresConfiguredCA: logout (and a replacing
// login) revokes the Vault token at the Vault that issued it, and drops
// the configured Vault's server name for it, but keeps the configured
// Vault's CA file as the trust root. VAULT_CACERT belongs to the
// configured (other) Vault, e.g. a dev Vault whose CA sits in a project's
// .envrc with VAULT_ADDR: whoever holds that CA can answer for the
// recorded (production) Vault's address and receives its token in
// revoke-self, where system roots would have refused the handshake.
// Here the "recorded Vault" is a TLS server with a certificate only the
// configured Vault's CA file trusts.
func TestReview2RecordVaultIgnoresConfiguredCA(t *testing.T) {
	var got atomic.Bool
	mitm := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Vault-Token") != "" {
			got.Store(true)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(mitm.Close)
	ca := filepath.Join(t.TempDir(), "dev-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: mitm.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rec := &store.Record{Profile: "ci", VaultAddr: canonical(t, mitm.URL),
		Vault: &store.Token{Secret: secret.New("hvs.prod"), ExpiresAt: now.Add(time.Hour)}}
	// The configuration names another Vault, with its own CA file.
	cfg := &config.Config{Vault: config.Server{Addr: "https://dev-vault.example:8200", TLS: apiclient.TLS{CACert: ca}}}
	if err := revokeVault(context.Background(), cfg, rec); err == nil || got.Load() {
		t.Errorf("the Vault token of the login made at %s was sent there, trusted through the CA file of the configured Vault %s (revoke err %v)",
			rec.VaultAddr, cfg.Vault.Addr, err)
	}
}

// TestReview2LogoutOtherVaultTLSFailureWarns: logout of a login made at a
// Vault other than the configured one checks that Vault against the
// system roots only; when the handshake fails, nothing is sent, and
// logout warns (exit 3) that the token expires on its own, at its time.
func TestReview2LogoutOtherVaultTLSFailureWarns(t *testing.T) {
	var got atomic.Bool
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(true)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(other.Close)
	ca := filepath.Join(t.TempDir(), "dev-ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	env := map[string]string{"HOME": home, "XDG_STATE_HOME": home + "/state", "XDG_CONFIG_HOME": home + "/config",
		"XDG_RUNTIME_DIR": home + "/run", "ALILOGIN_STORE": "file", "ALILOGIN_KERNEL_CACHE": "off",
		"VAULT_ADDR": "https://dev-vault.example:8200", "VAULT_CACERT": ca}
	e, _, errb := testEnv(env)
	st, err := store.Open("file", e.Getenv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	if err := st.Put(&store.Record{Version: store.RecordVersion, Profile: "ci", Subject: "s", VaultAddr: canonical(t, other.URL),
		Vault: &store.Token{Secret: secret.New("hvs.prod"), IssuedAt: time.Now().Add(-time.Minute), ExpiresAt: exp}}); err != nil {
		t.Fatal(err)
	}
	code := run(context.Background(), []string{"logout", "--profile", "ci"}, e)
	want := "it expires at " + exp.Local().Format(time.RFC3339)
	if code != exitPartial || !strings.Contains(errb.String(), "could not revoke the Vault token") || !strings.Contains(errb.String(), want) || got.Load() {
		t.Errorf("exit %d (want %d), request sent %v, stderr %q: want a warning with %q", code, exitPartial, got.Load(), errb, want)
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
	rec := &store.Record{Profile: "ci", VaultAddr: canonical(t, vault.URL),
		Vault: &store.Token{Secret: secret.New("hvs.own"), ExpiresAt: time.Now().Add(time.Hour)}}
	cfg := &config.Config{Vault: config.Server{TLS: apiclient.TLS{CACert: ca}}}
	if err := revokeVault(context.Background(), cfg, rec); err != nil || !got.Load() {
		t.Errorf("revoke at the recorded Vault with the user's CA: err %v, token arrived %v", err, got.Load())
	}
}
