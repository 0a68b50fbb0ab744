package renew

import (
	"context"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
)

// TestReloginCertNoRevokeNoNewCert: at step 4 the record's certificate,
// dead with the replaced Vault token, is not revoked again (no warning
// about it), and a record that had no certificate gets none (its profile
// may have no PKI role).
func TestReloginCertNoRevokeNoNewCert(t *testing.T) {
	e, rec := setup(t)
	sig := &fakeSigner{now: e.clk.now, ttl: 4 * time.Hour}
	e.chain.Cert = sig
	rec.ClientCert, _ = sig.Sign(context.Background(), rec.Vault.Secret, rec)
	e.clk.add(61 * time.Minute)
	out, res, err := e.chain.Run(context.Background(), rec, []store.Kind{store.Nomad})
	if err != nil {
		t.Fatal(err)
	}
	if len(sig.revoked) != 0 || len(res.Warnings) != 0 || out.ClientCert.Serial != "02" {
		t.Errorf("revoked %v, warnings %q, serial %s; want none, none, 02", sig.revoked, res.Warnings, out.ClientCert.Serial)
	}

	e2, rec2 := setup(t)
	sig2 := &fakeSigner{now: e2.clk.now, ttl: 4 * time.Hour}
	e2.chain.Cert = sig2
	e2.clk.add(61 * time.Minute)
	out2, _, err := e2.chain.Run(context.Background(), rec2, []store.Kind{store.Nomad})
	if err != nil {
		t.Fatal(err)
	}
	if sig2.n != 0 || out2.ClientCert != nil {
		t.Errorf("a record without a certificate got one at step 4: %d signed", sig2.n)
	}
}
