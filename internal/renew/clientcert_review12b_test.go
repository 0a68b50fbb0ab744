package renew

import (
	"context"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
)

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
