package session

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// Client certificates from Vault PKI (internal/clientcert) as a fresh
// login signs them (loginCert, before the mints), keeps their files
// (carryCertDirs, dropCertFiles) and revokes the one it replaced, and as
// status shows them (DescribeCert). The chain re-signs through
// pkiSigner (chain.go), env and exec put the files in force (useCert,
// session.go), logout revokes them (revokeCert, logout.go).

// loginCert signs the new login's certificate when a PKI mount is
// configured (nil otherwise) and writes its files, and returns the
// clients to mint with: cl, or, with a certificate, cl with Nomad and
// Consul presenting it where no certificate was configured by hand, so
// that this login's own calls to Nomad and Consul already present it.
func loginCert(ctx context.Context, e Env, cfg *config.Config, cl *Clients, vtok secret.String, profile, user string) (*clientcert.Cert, *Clients, error) {
	if cfg.PKIMount == "" {
		return nil, cl, nil
	}
	c, err := clientcert.Sign(ctx, cl.Vault.WithToken(vtok), cfg.PKIMount, profile, user, 0)
	if err != nil {
		return nil, cl, err
	}
	p, err := writeCert(e, profile, c)
	if err != nil {
		return nil, cl, err
	}
	mcl, err := NewClients(withCertTLS(cfg, c, p))
	if err != nil {
		return nil, cl, err
	}
	mcl.Vault = cl.Vault
	return c, mcl, nil
}

// writeCert writes c's files in profile's directory.
func writeCert(e Env, profile string, c *clientcert.Cert) (clientcert.Paths, error) {
	dir, err := clientcert.Dir(e.getenv, profile)
	if err != nil {
		return clientcert.Paths{}, err
	}
	return clientcert.Write(dir, c) // c.Dir: kept with the record, for logout
}

// carryCertDirs records in a new login's record rec the directory its
// certificate's files were written to and every directory of the login
// it replaces, old (nil: none), that still exists: the files there hold
// the replaced certificate until env or exec, run there, rewrite them,
// and logout must find them.
func carryCertDirs(rec, old *store.Record) {
	if rec.ClientCert != nil {
		rec.AddCertDir(rec.ClientCert.Dir)
	}
	if old == nil {
		return
	}
	for _, d := range old.CertFileDirs() {
		if _, err := os.Lstat(d); err == nil {
			rec.AddCertDir(d)
		}
	}
}

// dropCertFiles deletes the files of c, the certificate of a login that
// was not kept, when they are still c's: the stored login, if any, may
// not name their directory, and env and exec rewrite its own files
// there.
func dropCertFiles(e Env, c *clientcert.Cert) {
	if c.Dir != "" && clientcert.Same(clientcert.PathsIn(c.Dir), c) {
		if err := clientcert.Remove(c.Dir); err != nil {
			fmt.Fprintf(e.stderr(), "alilogin: warning: %s\n", termtext.Clean(err.Error()))
		}
	}
}

// revokeReplacedCert revokes the certificate of the login a new one
// replaced (its files are the new login's).
func revokeReplacedCert(ctx context.Context, e Env, cfg *config.Config, old *store.Record) {
	if old == nil || old.ClientCert == nil || !old.Vault.ValidFor(e.now(), 0) {
		return
	}
	for _, w := range revokeCert(ctx, e, cfg, old, false) {
		fmt.Fprintf(e.stderr(), "alilogin: warning: the previous login's %s\n", w)
	}
}

// CertStatus is what status shows of the certificate.
type CertStatus struct {
	Subject   string    `json:"subject"`
	Serial    string    `json:"serial"`
	ExpiresAt time.Time `json:"expires_at"`
	Valid     bool      `json:"valid"`
}

// DescribeCert is rec's certificate for status and the login summary;
// nil when it has none.
func DescribeCert(rec *store.Record, now time.Time) *CertStatus {
	if rec == nil || rec.ClientCert == nil {
		return nil
	}
	c := rec.ClientCert
	return &CertStatus{Subject: c.Subject, Serial: c.Serial, ExpiresAt: c.NotAfter, Valid: c.ValidFor(now, 0)}
}

// Text is the certificate's line in status and after login (cleaned: the
// subject comes from the SSO through Vault).
func (c *CertStatus) Text(now time.Time) string {
	left := "expired"
	if d := c.ExpiresAt.Sub(now); d > 0 {
		left = "valid for " + d.Round(time.Second).String()
	}
	return fmt.Sprintf("%s, serial %s, %s, until %s", termtext.Clean(c.Subject), termtext.Clean(c.Serial), left, c.ExpiresAt.Local().Format("15:04:05 MST"))
}
