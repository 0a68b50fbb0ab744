package renew

import (
	"context"
	"testing"
	"time"
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
	out, _, err := e.chain.Run(context.Background(), rec, []Kind{Nomad})
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
