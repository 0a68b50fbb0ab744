package session

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// TestVaultTokenStaysWithItsVault: a login made at one Vault, and a
// configuration that now names another Vault address (VAULT_ADDR in a
// shell, the config file, or the broker's discovery document). Logout
// revokes the Vault token at the Vault that issued it (the record's
// address) and never sends it to the configured one; a record that does
// not say which Vault (an earlier alilogin), or whose Vault address the
// address rules refuse now, is deleted without sending its token
// anywhere, with a warning.
func TestVaultTokenStaysWithItsVault(t *testing.T) {
	for _, tc := range []struct {
		name     string
		addr     func(own string) string // the record's VaultAddr
		revoked  bool                    // at the record's own Vault
		wantWarn string
	}{
		{"made at another Vault", func(own string) string { return own }, true, ""},
		{"record of an earlier version", func(string) string { return "" }, false, "does not say which Vault"},
		{"recorded address refused now", func(string) string { return "http://vault.example:8200" }, false, "refused now"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := hostile.NewServer(hostile.ErrorBody(http.StatusNoContent, "application/json", ""))
			t.Cleanup(other.Close)
			own := hostile.NewServer(hostile.ErrorBody(http.StatusNoContent, "application/json", ""))
			t.Cleanup(own.Close)
			e, _, errb := testEnv(nil)
			now := time.Now()
			e.Now = func() time.Time { return now }
			vaultTok := secret.New("hvs.login-made-at-the-real-vault")
			rec := &store.Record{Profile: "ci", Issuer: "https://sso.example", ClientID: "alilogin", Subject: "s", VaultAddr: tc.addr(testutil.Canonical(t, own.URL)),
				Vault: &store.Token{Secret: vaultTok, Accessor: "acc", IssuedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}}
			// The configuration of the logout names another Vault.
			cfg := &config.Config{Vault: config.Server{Addr: other.URL}}
			warnings := revokeRecord(context.Background(), *e, cfg, rec)
			if other.SentHeader("X-Vault-Token", vaultTok.Reveal()) {
				t.Errorf("the Vault token of the login went to %s, an address the login was not made with", other.URL)
			}
			if got := own.SentHeader("X-Vault-Token", vaultTok.Reveal()); got != tc.revoked {
				t.Errorf("revoked at the Vault that issued it: %v, want %v", got, tc.revoked)
			}
			if tc.revoked {
				if len(warnings) != 0 {
					t.Errorf("warnings %q", warnings)
				}
				if !strings.Contains(errb.String(), "the Vault that issued it") {
					t.Errorf("stderr %q does not say where the token was revoked", errb)
				}
			} else if w := strings.Join(warnings, "\n"); !strings.Contains(w, tc.wantWarn) || !strings.Contains(w, "expires at") {
				t.Errorf("warnings %q, want one with %q and the expiry", w, tc.wantWarn)
			}
		})
	}
}
