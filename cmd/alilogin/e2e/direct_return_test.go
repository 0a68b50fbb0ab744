package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
)

// TestVaultReturnLogsOutReplacedDirectConsulToken: a login made while
// Vault was sealed holds a direct Consul token; once Vault is back, the
// renewal through Vault replaces it with a minted one, and the direct
// token (which the record then no longer names, so that `logout` cannot
// end it) is logged out at Consul, as a direct renewal does.
func TestVaultReturnLogsOutReplacedDirectConsulToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	v, u, profile, _, _, rec := loginWithVaultDown(t, ctx, "sealed")
	if !rec.Consul.Direct() {
		t.Fatalf("the login holds no direct Consul token")
	}
	direct := rec.Consul.Secret.Reveal()

	if err := v.Unseal(ctx); err != nil {
		t.Fatal(err)
	}
	waitVaultRenewal(t, u)
	u.ok(t, "token", "--for", "consul", "--min-ttl", "59m") // the minted Consul token replaces the direct one
	rec = mustRecord(t, u, profile)
	if rec.Consul == nil || rec.Consul.Direct() {
		t.Fatalf("after Vault came back the Consul token is still the direct one")
	}
	if !directRefused(ctx, store.Consul, direct) {
		t.Errorf("Consul still accepts the replaced direct token, which the record no longer names (logout cannot end it)")
	}
}
