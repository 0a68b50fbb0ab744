package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/store"
)

func canonicalAddr(t *testing.T, addr string) string {
	t.Helper()
	c, err := check.Canonical(addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestVaultBinding: a login made at the real Vault, then VAULT_ADDR
// pointed at another (recording) server, as in `VAULT_ADDR=https://test-vault
// alilogin ...` in a shell logged in to production. token (renewal forced
// with --min-ttl over the TTL, and cached), env and exec exit 4 naming
// both addresses; logout revokes the token at the real Vault, the one
// that issued it. The other server receives nothing at all. A record of
// an earlier alilogin (no Vault address) is not sent anywhere either:
// token exits 4, logout deletes it locally, warns, and exits 3.
func TestVaultBinding(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// loginAt logs in a new user to a new profile at the real stack and
	// returns the user (VAULT_ADDR then pointed at a recording server),
	// the profile, the record and the server.
	loginAt := func(t *testing.T) (*user, string, *store.Record, *hostile.Server) {
		t.Helper()
		u, profile, name, pw := newLoginUser(t, ctx, "vbind-users")
		loginOK(t, ctx, u, name, pw, "login", "--profile", profile)
		rec := mustRecord(t, u, profile)
		t.Cleanup(func() {
			_ = stack.Vault.Client().Do(context.Background(), "POST", "/v1/auth/token/revoke", map[string]string{"token": rec.Vault.Secret.Reveal()}, nil)
			if st, err := store.Open("keyring", u.getenv, nil); err == nil {
				_ = st.Delete(profile)
			}
		})
		if want := canonicalAddr(t, stack.Vault.Addr); rec.VaultAddr != want {
			t.Errorf("record's Vault address %q, want %q", rec.VaultAddr, want)
		}
		if want := canonicalAddr(t, stack.Nomad.Addr); rec.NomadAddr != want {
			t.Errorf("record's Nomad address %q, want %q", rec.NomadAddr, want)
		}
		if want := canonicalAddr(t, stack.Consul.Addr); rec.ConsulAddr != want {
			t.Errorf("record's Consul address %q, want %q", rec.ConsulAddr, want)
		}
		other := hostile.NewServer(hostile.ErrorBody(http.StatusNoContent, "application/json", ""))
		t.Cleanup(other.Close)
		u.env["VAULT_ADDR"] = other.URL
		return u, profile, rec, other
	}
	stillValid := func(t *testing.T, rec *store.Record) error {
		return stack.Vault.Client().WithToken(rec.Vault.Secret).Do(ctx, "GET", "/v1/auth/token/lookup-self", nil, nil)
	}

	t.Run("login made at another Vault", func(t *testing.T) {
		u, profile, rec, other := loginAt(t)
		for _, args := range [][]string{
			{"token", "--profile", profile, "--for", "vault", "--min-ttl", "100h"},
			{"token", "--profile", profile, "--for", "vault"},
			{"token", "--profile", profile, "--for", "nomad", "--min-ttl", "100h"},
			{"env", "--profile", profile},
			{"exec", "--profile", profile, "--", "true"},
		} {
			p := u.run(t, args...)
			msg := p.stderr.String()
			if p.code() != 7 {
				t.Errorf("%s: exit %d, want 7 (mismatch); stderr:\n%s", strings.Join(args, " "), p.code(), msg)
			}
			for _, w := range []string{canonicalAddr(t, stack.Vault.Addr), canonicalAddr(t, other.URL), "unset VAULT_ADDR", "alilogin login --profile " + profile + ", which replaces this login"} {
				if !strings.Contains(msg, w) {
					t.Errorf("%s: stderr lacks %q:\n%s", strings.Join(args, " "), w, msg)
				}
			}
			noLeaks(t, p, rec.Vault.Secret, rec.Nomad.Secret, rec.Consul.Secret, rec.RefreshToken)
		}
		if err := stillValid(t, rec); err != nil {
			t.Errorf("the Vault token no longer works after the refused commands: %v", err)
		}

		p := u.run(t, "logout", "--profile", profile)
		if p.code() != 0 || !strings.Contains(p.stderr.String(), "the Vault that issued it") {
			t.Errorf("logout: exit %d, want 0 and where it revoked; stderr:\n%s", p.code(), p.stderr.String())
		}
		noLeaks(t, p, rec.Vault.Secret, rec.RefreshToken)
		if err := stillValid(t, rec); apiclient.StatusOf(err) != 403 {
			t.Errorf("the Vault token was not revoked at the Vault that issued it: %v", err)
		}
		if _, err := getRecord(t, u, profile); err != store.ErrNotFound {
			t.Errorf("record still there: %v", err)
		}
		if got := other.Requests(); len(got) != 0 {
			t.Errorf("the other server got %d requests, first %s %s", len(got), got[0].Method, got[0].Path)
		}
	})

	t.Run("record of an earlier version", func(t *testing.T) {
		u, profile, rec, other := loginAt(t)
		old := *rec
		old.VaultAddr, old.NomadAddr, old.ConsulAddr = "", "", ""
		u.env["ALILOGIN_KERNEL_CACHE"] = "off"
		st, err := store.Open("keyring", u.getenv, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Put(&old); err != nil {
			t.Fatal(err)
		}
		p := u.run(t, "token", "--profile", profile, "--for", "vault", "--min-ttl", "100h")
		if p.code() != 4 || !strings.Contains(p.stderr.String(), "does not say which Vault") {
			t.Errorf("token: exit %d, want 4 and why; stderr:\n%s", p.code(), p.stderr.String())
		}
		p = u.run(t, "logout", "--profile", profile)
		msg := p.stderr.String()
		if p.code() != 3 || !strings.Contains(msg, "does not say which Vault") || !strings.Contains(msg, "expires at") {
			t.Errorf("logout: exit %d, want 3 and a warning; stderr:\n%s", p.code(), msg)
		}
		noLeaks(t, p, rec.Vault.Secret, rec.RefreshToken)
		if _, err := getRecord(t, u, profile); err != store.ErrNotFound {
			t.Errorf("record still there: %v", err)
		}
		// Sent nowhere: not to the other server, not to the real Vault.
		if err := stillValid(t, rec); err != nil {
			t.Errorf("the Vault token was sent to the real Vault: %v", err)
		}
		if got := other.Requests(); len(got) != 0 {
			t.Errorf("the other server got %d requests, first %s %s", len(got), got[0].Method, got[0].Path)
		}
	})
}
