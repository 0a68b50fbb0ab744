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

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

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
