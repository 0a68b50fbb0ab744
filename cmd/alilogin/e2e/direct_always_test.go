package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/testutil"
)

// TestTokenAnswersQuicklyWithVaultStoppedInAlwaysMode: with a profile
// whose direct login is "always" and Vault stopped (SIGSTOP: it accepts
// connections and never answers), a renewal that needs Vault answers
// within a few seconds, as in "fallback" mode (the short probe,
// remembered), not after the client's timeout on every call.
func TestTokenAnswersQuicklyWithVaultStoppedInAlwaysMode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	v, u, profile := directSetup(t, ctx, "always")
	name, pw := newUserAccount("ci-users")
	loginOK(t, ctx, u, name, pw, "login", "--profile", profile)
	rec, err := getRecord(t, u, profile)
	if err != nil || rec.Vault == nil {
		t.Fatalf("record after login: %v", err)
	}
	testutil.WaitFor(t, 10*time.Second, "the Vault token to have less than 59s left", func() bool {
		return time.Until(rec.Vault.ExpiresAt) < 59*time.Second
	})
	if err := v.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		t0 := time.Now()
		p := u.run(t, "token", "--for", "vault", "--min-ttl", "59s")
		t.Logf("call %d: exit %d in %s: %s", i+1, p.code(), time.Since(t0), p.stderr.String())
		if took := time.Since(t0); took > 5*time.Second {
			t.Errorf("token --for vault (call %d) with Vault stopped took %s (exit %d)", i+1, took, p.code())
		}
	}
}
