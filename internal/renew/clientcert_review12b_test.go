package renew

import (
	"context"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
)

// TestReview12bReloginResignsCert: the role's generate_lease ties a
// certificate to the Vault token that signed it: Vault revokes it when
// that token is revoked or expires (cmd/broker/e2e
// TestReview12ClientCertDiesWithVaultToken). A run that logs in to Vault
// again (step 4: the old token expired, or at its max TTL, and
// FreshLogin revokes the replaced token before BeforeMint) therefore
// leaves the record's certificate revoked at Vault, however long its
// NotAfter. runCert re-signs only by NotAfter, so the new login keeps a
// certificate Vault has revoked (Nomad and Consul, with no revocation
// list, still take it; logout then "revokes" a revoked one) and the new
// Vault token holds no certificate lease. Before: the old serial 01 is
// kept, nothing signed with the new token. Want: a certificate signed
// with the new Vault token.
func TestReview12bReloginResignsCert(t *testing.T) {
	e, rec := setup(t)
	sig := &fakeSigner{now: e.clk.now, ttl: 4 * time.Hour}
	e.chain.Cert = sig
	rec.ClientCert, _ = sig.Sign(context.Background(), rec.Vault.Secret, rec) // 01, leased to rec.Vault
	sig.tokens = nil
	old := rec.Vault.Secret
	e.clk.add(61 * time.Minute) // the Vault token (1h) expired: Vault revoked 01 with it
	if rec.Vault.ValidFor(e.clk.now(), 0) {
		t.Fatal("setup: the Vault token is still valid")
	}
	out, _, err := e.chain.Run(context.Background(), rec, []store.Kind{store.Nomad})
	if err != nil {
		t.Fatal(err)
	}
	if out.Vault.Secret.Equal(old) {
		t.Fatal("setup: no new Vault login")
	}
	if out.ClientCert.Serial == "01" || len(sig.tokens) != 1 || !sig.tokens[0].Equal(out.Vault.Secret) {
		t.Errorf("after a new Vault login the record keeps certificate %s (signed with the old, dead token); signed with new token: %v", out.ClientCert.Serial, len(sig.tokens) == 1)
	}
}

// TestReview12bShortCertTTLResignsEveryRun: client_cert_ttl may be as
// short as 1s (internal/policy: "at least 1s"; the admin guide says keep
// it short), and the margin is --min-ttl (5m by default). A certificate
// whose whole life is no longer than the margin is never fresh, so every
// alilogin env/exec/token run signs a new one and revokes the previous,
// which was signed a moment ago: each call stores a certificate at
// Vault (no_store false) and adds a revocation (a CRL rebuild), without
// bound, from any script that calls alilogin exec in a loop. Tokens have
// the rule "a token just issued is accepted even when its whole TTL is
// shorter than the margin"; certificates do not. Before: three runs at
// the same instant sign three certificates and revoke two. Want: one.
func TestReview12bShortCertTTLResignsEveryRun(t *testing.T) {
	e, rec := setup(t)
	sig := &fakeSigner{now: e.clk.now, ttl: 5 * time.Minute} // client_cert_ttl = "5m", the default --min-ttl
	e.chain.Cert = sig
	rec.ClientCert, _ = sig.Sign(context.Background(), rec.Vault.Secret, rec) // 01, just signed
	for range 3 {
		out, _, err := e.chain.Run(context.Background(), rec, []store.Kind{store.Nomad})
		if err != nil {
			t.Fatal(err)
		}
		rec = out
	}
	if sig.n > 2 || len(sig.revoked) > 1 {
		t.Errorf("three runs at one instant signed %d certificates and revoked %v", sig.n, sig.revoked)
	}
}
