package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// TestTokenRefusesLoginOfAnotherVault: `alilogin token` and `env` for a
// login made at another Vault than the configured one (or for a record
// that does not say which) exit 7 (4 for a record that does not say
// which) with a message naming both addresses and the fix,
// and send nothing anywhere: not for a cached token (env would export it
// with the configured VAULT_ADDR), not for one that needs renewal.
func TestTokenRefusesLoginOfAnotherVault(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		expired bool
		addr    func(own string) string
		want    []string
		code    int
	}{
		{"token, cached", []string{"token", "--for", "vault"}, false, func(o string) string { return o }, []string{"configured Vault is", "unset VAULT_ADDR", "alilogin login --profile ci, which replaces this login"}, exitMismatch},
		{"token, renewal", []string{"token", "--for", "vault"}, true, func(o string) string { return o }, []string{"configured Vault is", "unset VAULT_ADDR", "alilogin login --profile ci, which replaces this login"}, exitMismatch},
		{"token, min-ttl over the TTL", []string{"token", "--for", "vault", "--min-ttl", "2h"}, false, func(o string) string { return o }, []string{"configured Vault is", "unset VAULT_ADDR", "alilogin login --profile ci, which replaces this login"}, exitMismatch},
		{"env", []string{"env"}, false, func(o string) string { return o }, []string{"configured Vault is", "unset VAULT_ADDR", "alilogin login --profile ci, which replaces this login"}, exitMismatch},
		{"token, record of an earlier version", []string{"token", "--for", "vault"}, true, func(string) string { return "" }, []string{"does not say which Vault", "run: alilogin login --profile ci"}, exitLoginNeeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := hostile.NewServer(hostile.ErrorBody(http.StatusNoContent, "application/json", ""))
			t.Cleanup(other.Close)
			own := hostile.NewServer(hostile.ErrorBody(http.StatusNoContent, "application/json", ""))
			t.Cleanup(own.Close)
			env := testutil.Home(t, map[string]string{"ALILOGIN_CLIENT_ID": "alilogin", "ALILOGIN_ISSUER": other.URL, "VAULT_ADDR": other.URL})
			e, out, errb := testEnv(env)
			st := openFileStore(t, env)
			now := time.Now()
			exp := now.Add(time.Hour)
			if tc.expired {
				exp = now.Add(-time.Minute)
			}
			vaultTok := secret.New("hvs.login-made-at-the-real-vault")
			if err := st.Put(&store.Record{Version: store.RecordVersion, Profile: "ci", Issuer: other.URL, ClientID: "alilogin", Subject: "s",
				VaultAddr: tc.addr(testutil.Canonical(t, own.URL)), RefreshToken: secret.New("rt"),
				Vault: &store.Token{Secret: vaultTok, Accessor: "acc", Renewable: true, IssuedAt: now.Add(-time.Minute), ExpiresAt: exp}, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
			code := run(context.Background(), append(tc.args, "--profile", "ci"), e)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tc.code, errb)
			}
			if strings.Contains(out.String(), vaultTok.Reveal()) {
				t.Errorf("the token was printed: %q", out)
			}
			msg := errb.String()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("stderr %q does not say %q", msg, w)
				}
			}
			if tc.addr("x") != "" && (!strings.Contains(msg, testutil.Canonical(t, own.URL)) || !strings.Contains(msg, testutil.Canonical(t, other.URL))) {
				t.Errorf("stderr %q does not name both Vault addresses", msg)
			}
			if n := len(other.Requests()) + len(own.Requests()); n != 0 {
				t.Errorf("%d requests were sent, want none", n)
			}
		})
	}
}
