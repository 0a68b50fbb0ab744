package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// TestReview2LogoutWarningCleansAccessor: the accessor of a Vault token is
// server text (Vault's login answer, the engines' accessor_id/accessor):
// internal/issue keeps it as sent, only the token itself is checked. When
// the revocation then fails (the lying Vault answers 500), logout prints
// "could not revoke the Vault token (accessor %s)" with the accessor raw:
// an OSC title change / screen clear reaches the terminal. (login.go
// cleans the same accessor in its own warning; logout and the renewal's
// discard warnings in internal/renew do not.)
func TestReview2LogoutWarningCleansAccessor(t *testing.T) {
	vault := hostile.NewServer(hostile.ErrorBody(http.StatusInternalServerError, "application/json", `{"errors":["no"]}`))
	t.Cleanup(vault.Close)
	home := t.TempDir()
	env := map[string]string{"HOME": home, "XDG_STATE_HOME": home + "/state", "XDG_CONFIG_HOME": home + "/config",
		"XDG_RUNTIME_DIR": home + "/run", "ALILOGIN_STORE": "file", "ALILOGIN_KERNEL_CACHE": "off",
		"VAULT_ADDR": vault.URL}
	e, _, errb := testEnv(env)
	st, err := store.Open("file", e.Getenv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.Put(&store.Record{Version: store.RecordVersion, Profile: "ci", Subject: "s", VaultAddr: canonical(t, vault.URL),
		Vault: &store.Token{Secret: secret.New("hvs.tok"), Accessor: "acc\x1b]0;pwned\x07\x1b[2J", IssuedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	code := run(context.Background(), []string{"logout", "--profile", "ci"}, e)
	if !strings.Contains(errb.String(), "could not revoke the Vault token") {
		t.Fatalf("exit %d, stderr %q: want the revocation warning", code, errb)
	}
	if strings.ContainsAny(errb.String(), "\x1b\x07") {
		t.Errorf("logout's stderr carries the Vault's escape sequences raw: %q", errb)
	}
}
