package renew

import (
	"context"
	"fmt"

	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// CertSigner signs a new client certificate for a record with its Vault
// token, and revokes one it replaces (internal/clientcert). Its errors
// match ErrDenied and ErrUnreachable as VaultAPI's do.
type CertSigner interface {
	Sign(ctx context.Context, vault secret.String, rec *store.Record) (*clientcert.Cert, error)
	Revoke(ctx context.Context, vault secret.String, c *clientcert.Cert) error
}

// runCert re-signs out's client certificate when it is not fresh, with
// the Vault token the chain has just brought to the margin (no browser),
// and revokes the one it replaces while it is still valid (best effort:
// a warning).
func (c *Chain) runCert(ctx context.Context, out *store.Record, res *Result) error {
	if c.certFresh(out) || !out.Vault.ValidFor(c.now(), 0) {
		return nil
	}
	old := out.ClientCert
	if err := c.signCert(ctx, out, res); err != nil {
		return err
	}
	if old.ValidFor(c.now(), 0) {
		if err := c.Cert.Revoke(ctx, out.Vault.Secret, old); err != nil {
			res.Warnings = append(res.Warnings, err.Error())
		}
	}
	return nil
}

func (c *Chain) signCert(ctx context.Context, out *store.Record, res *Result) error {
	n, err := c.Cert.Sign(ctx, out.Vault.Secret, out)
	if err != nil {
		return fmt.Errorf("could not renew the client certificate: %w", err)
	}
	// The directories of the certificate replaced keep its files until
	// env or exec rewrite them there: the record keeps naming them, and
	// the new one's (store.Record.CertDirs), for logout.
	out.CertDirs = out.CertFileDirs()
	out.ClientCert = n
	out.AddCertDir(n.Dir)
	res.step("signed a new client certificate (serial %s)", n.Serial)
	return nil
}

// discardCert revokes the certificate the chain signed into out for a
// login that was replaced or deleted meanwhile (Ensurer.discard), with
// out's Vault token, which signed it.
func (e *Ensurer) discardCert(ctx context.Context, rec, out *store.Record, res *Result, warn func(string, error)) {
	n := out.ClientCert
	if e.Chain.Cert == nil || n == nil || out.Vault == nil || rec.ClientCert != nil && rec.ClientCert.Serial == n.Serial {
		return
	}
	if err := e.Chain.Cert.Revoke(ctx, out.Vault.Secret, n); err != nil {
		warn("new client certificate "+termtext.Clean(n.Serial), err)
		return
	}
	res.Steps = append(res.Steps, "revoked the new client certificate: the login changed meanwhile")
}
