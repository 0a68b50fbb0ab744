package renew

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
)

// TestChainSignsCertBeforeMinting: a run that re-signs the certificate
// and re-mints a Nomad token signs first, so that the mint (at a server
// that wants mTLS) presents the new certificate.
func TestChainSignsCertBeforeMinting(t *testing.T) {
	e, rec := setup(t)
	sig := &fakeSigner{now: e.clk.now, ttl: 30 * time.Minute}
	var order []string
	e.chain.Cert = signHook{sig, func() { order = append(order, "sign") }}
	rec.ClientCert, _ = sig.Sign(context.Background(), rec.Vault.Secret, rec)
	e.clk.add(26 * time.Minute)
	rec.Nomad.ExpiresAt = e.clk.now() // re-mint
	e.vault.hook = func(call string) {
		if call == "mint nomad" {
			order = append(order, call)
		}
	}
	if _, _, err := e.chain.Run(context.Background(), rec, []store.Kind{store.Nomad}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[sign mint nomad]" {
		t.Errorf("order %v; want the certificate signed before the mint", order)
	}
}
