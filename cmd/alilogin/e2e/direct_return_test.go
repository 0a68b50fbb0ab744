package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// TestVaultReturnLogsOutReplacedDirectConsulToken: a login made while
// Vault was sealed holds a direct Consul token; once Vault is back, the
// renewal through Vault replaces it with a minted one, and the direct
// token (which the record then no longer names, so that `logout` cannot
// end it) is logged out at Consul, as a direct renewal does.
func TestVaultReturnLogsOutReplacedDirectConsulToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	v, u, profile := directSetup(t, ctx)
	name, pw := newUserAccount("ci-users")
	if err := v.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if p, _ := login(t, ctx, u, name, pw, "--profile", profile); p.code() != 0 {
		t.Fatalf("login with Vault sealed: exit %d; stderr:\n%s", p.code(), p.stderr.String())
	}
	rec, err := getRecord(t, u, profile)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Consul.Direct() {
		t.Fatalf("the login holds no direct Consul token")
	}
	direct := rec.Consul.Secret.Reveal()

	if err := v.Unseal(ctx); err != nil {
		t.Fatal(err)
	}
	last := time.Time{}
	testutil.WaitFor(t, time.Minute, "a renewal through Vault", func() bool {
		if time.Since(last) < time.Second {
			return false // one try a second: each is a process
		}
		last = time.Now()
		return u.run(t, "token", "--for", "vault").code() == 0
	})
	u.ok(t, "token", "--for", "consul", "--min-ttl", "59m") // the minted Consul token replaces the direct one
	if rec, err = getRecord(t, u, profile); err != nil {
		t.Fatal(err)
	}
	if rec.Consul == nil || rec.Consul.Direct() {
		t.Fatalf("after Vault came back the Consul token is still the direct one")
	}
	if !directRefused(ctx, store.Consul, direct) {
		t.Errorf("Consul still accepts the replaced direct token, which the record no longer names (logout cannot end it)")
	}
}
