package renew

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// fakeSigner signs certificates valid for ttl and records revocations.
type fakeSigner struct {
	now     func() time.Time
	ttl     time.Duration
	n       int
	tokens  []secret.String
	revoked []string
}

func (f *fakeSigner) Sign(_ context.Context, v secret.String, rec *store.Record) (*clientcert.Cert, error) {
	f.n++
	f.tokens = append(f.tokens, v)
	return &clientcert.Cert{Serial: fmt.Sprintf("%02d", f.n), Subject: "CN=" + rec.User, NotAfter: f.now().Add(f.ttl), Key: secret.New("key")}, nil
}

func (f *fakeSigner) Revoke(_ context.Context, _ secret.String, c *clientcert.Cert) error {
	f.revoked = append(f.revoked, c.Serial)
	return nil
}

func TestChainRenewsClientCert(t *testing.T) {
	e, rec := setup(t)
	sig := &fakeSigner{now: e.clk.now, ttl: 30 * time.Minute}
	e.chain.Cert = sig
	rec.ClientCert, _ = sig.Sign(context.Background(), rec.Vault.Secret, rec)
	sig.tokens = nil
	ctx := context.Background()

	// Fresh: no signing, no network.
	if !e.chain.Fresh(rec, []Kind{Nomad}) {
		t.Fatal("a fresh record with a fresh certificate is not Fresh")
	}
	// Within the margin of its expiry: re-signed with the Vault token,
	// the old one revoked; the tokens are left alone.
	e.clk.add(26 * time.Minute)
	if e.chain.Fresh(rec, []Kind{Nomad}) {
		t.Fatal("a certificate within the margin counts as fresh")
	}
	out, res, err := e.chain.Run(ctx, rec, []Kind{Nomad})
	if err != nil {
		t.Fatal(err)
	}
	if out.ClientCert.Serial != "02" || !res.Changed || len(sig.tokens) != 1 || !sig.tokens[0].Equal(rec.Vault.Secret) {
		t.Errorf("after Run: cert %+v, changed %v, signed with %v", out.ClientCert, res.Changed, sig.tokens)
	}
	if fmt.Sprint(sig.revoked) != "[01]" {
		t.Errorf("revoked %v, want the replaced [01]", sig.revoked)
	}
	if rec.ClientCert.Serial != "01" {
		t.Errorf("Run changed its input record")
	}
	if out.Nomad.LeaseID != rec.Nomad.LeaseID {
		t.Errorf("the Nomad token was replaced for a certificate")
	}
	// Expired: re-signed, the expired one not revoked (nothing to do).
	e.clk.add(40 * time.Minute)
	out2, _, err := e.chain.Run(ctx, out, []Kind{Vault})
	if err != nil {
		t.Fatal(err)
	}
	if out2.ClientCert.Serial != "03" || len(sig.revoked) != 1 {
		t.Errorf("after expiry: %+v, revoked %v", out2.ClientCert, sig.revoked)
	}
	// Without a signer (no PKI mount configured) certificates are left as they are.
	e.chain.Cert = nil
	e.clk.add(time.Hour)
	if !e.chain.certFresh(out2) {
		t.Errorf("without a signer the certificate counts")
	}
}
