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
	return &clientcert.Cert{Serial: fmt.Sprintf("%02d", f.n), Subject: "CN=" + rec.User, NotAfter: f.now().Add(f.ttl), IssuedAt: f.now(), Key: secret.New("key")}, nil
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
	if !e.chain.Fresh(rec, []store.Kind{store.Nomad}) {
		t.Fatal("a fresh record with a fresh certificate is not Fresh")
	}
	// Within the margin of its expiry: re-signed with the Vault token,
	// the old one revoked; the tokens are left alone.
	e.clk.add(26 * time.Minute)
	if e.chain.Fresh(rec, []store.Kind{store.Nomad}) {
		t.Fatal("a certificate within the margin counts as fresh")
	}
	out, res, err := e.chain.Run(ctx, rec, []store.Kind{store.Nomad})
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
	out2, _, err := e.chain.Run(ctx, out, []store.Kind{store.Vault})
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

// TestEnsureReplacedMeanwhileRevokesNewCert: a new login replaced the
// record while the chain re-signed its certificate: the certificate the
// chain signed is revoked (as its new leases are), not left valid and
// held by nobody; the new login's is not touched.
func TestEnsureReplacedMeanwhileRevokesNewCert(t *testing.T) {
	e, rec := setup(t)
	sig := &fakeSigner{now: e.clk.now, ttl: 30 * time.Minute}
	e.chain.Cert = sig
	rec.ClientCert, _ = sig.Sign(context.Background(), rec.Vault.Secret, rec) // 01
	e.clk.add(26 * time.Minute)                                               // within the margin: re-sign
	ms := &memStore{recs: map[string]*store.Record{"ci": rec}}
	fresh := rec.Clone()
	fresh.Vault = rec.Vault.Clone()
	fresh.Vault.Secret = secret.New("vault-of-the-new-login")
	fresh.ClientCert = &clientcert.Cert{Serial: "new-login", NotAfter: e.clk.now().Add(time.Hour)}
	fresh.UpdatedAt = e.clk.now().Add(time.Second)
	inner := e.chain.Cert
	e.chain.Cert = signHook{inner, func() { ms.recs["ci"] = fresh }}
	en := &Ensurer{Chain: e.chain, Store: ms, LockDir: t.TempDir()}
	if _, _, err := en.Ensure(context.Background(), "ci", []store.Kind{store.Vault}); err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if ms.puts != 0 {
		t.Errorf("puts %d; want the new login untouched", ms.puts)
	}
	if fmt.Sprint(sig.revoked) != "[01 02]" {
		t.Errorf("revoked %v; want the replaced 01 and the chain's own 02", sig.revoked)
	}
}

// signHook calls after once a certificate is signed.
type signHook struct {
	CertSigner
	after func()
}

func (h signHook) Sign(ctx context.Context, v secret.String, rec *store.Record) (*clientcert.Cert, error) {
	c, err := h.CertSigner.Sign(ctx, v, rec)
	h.after()
	return c, err
}

// dirSigner is fakeSigner whose certificates' files went to dir.
type dirSigner struct {
	*fakeSigner
	dir string
}

func (d dirSigner) Sign(ctx context.Context, v secret.String, rec *store.Record) (*clientcert.Cert, error) {
	c, err := d.fakeSigner.Sign(ctx, v, rec)
	if c != nil {
		c.Dir = d.dir
	}
	return c, err
}

// TestRenewedCertKeepsEveryDir: a certificate re-signed in one
// environment leaves the replaced one's files in the others until env
// rewrites them there: the record keeps naming every directory (those it
// named, the replaced certificate's, the new one's), for logout.
func TestRenewedCertKeepsEveryDir(t *testing.T) {
	e, rec := setup(t)
	sig := &fakeSigner{now: e.clk.now, ttl: 30 * time.Minute}
	e.chain.Cert = dirSigner{sig, "/home/alice/.local/state/alilogin/run/ci"}
	rec.ClientCert, _ = sig.Sign(context.Background(), rec.Vault.Secret, rec)
	rec.ClientCert.Dir = "/run/user/1000/alilogin/ci" // an earlier alilogin's record names only this one
	rec.CertDirs = []string{"/tmp/ssh-run/alilogin/ci"}
	e.clk.add(26 * time.Minute)
	out, _, err := e.chain.Run(context.Background(), rec, []store.Kind{store.Vault})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/tmp/ssh-run/alilogin/ci", "/run/user/1000/alilogin/ci", "/home/alice/.local/state/alilogin/run/ci"}
	if got := out.CertFileDirs(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after re-signing, the record names %v; want %v", got, want)
	}
	if fmt.Sprint(rec.CertDirs) != "[/tmp/ssh-run/alilogin/ci]" {
		t.Errorf("Run changed its input record's directories: %v", rec.CertDirs)
	}
}

// TestShortCertTTLNotResignedEveryRun: client_cert_ttl may be as
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
func TestShortCertTTLNotResignedEveryRun(t *testing.T) {
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
