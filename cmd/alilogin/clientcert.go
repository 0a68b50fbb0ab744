package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// Client certificates from Vault PKI (internal/clientcert): each hook
// point of login, the renewal chain, env/exec, status and logout is one
// call into this file.

// loginCert signs the new login's certificate when a PKI mount is
// configured (nil, nil otherwise) and writes its files, so that this
// login's own calls to Nomad and Consul can already present it; it
// returns cfg with the files in force where no certificate was configured
// by hand.
func loginCert(ctx context.Context, e *cmdEnv, cfg *config.Config, vault *apiclient.Client, vtok secret.String, profile, user string) (*clientcert.Cert, *config.Config, error) {
	if cfg.PKIMount == "" {
		return nil, cfg, nil
	}
	c, err := clientcert.Sign(ctx, vault.WithToken(vtok), cfg.PKIMount, profile, user, 0)
	if err != nil {
		return nil, cfg, err
	}
	dir, err := clientcert.Dir(e.Getenv, profile)
	if err != nil {
		return nil, cfg, err
	}
	p, err := clientcert.Write(dir, c)
	if err != nil {
		return nil, cfg, err
	}
	return c, withCertTLS(cfg, c, p), nil
}

// withCertTLS is cfg with the certificate files p as the client
// certificate of Nomad and Consul, where none was configured by hand (a
// grid certificate in NOMAD_CLIENT_CERT or the config file wins). The CA
// settings are left as configured: the servers' own certificates need not
// come from the PKI that signs the users'.
func withCertTLS(cfg *config.Config, c *clientcert.Cert, p clientcert.Paths) *config.Config {
	if c == nil {
		return cfg
	}
	out := *cfg
	for _, s := range []*config.Server{&out.Nomad, &out.Consul} {
		if s.TLS.ClientCert == "" && s.TLS.ClientKey == "" {
			s.TLS.ClientCert, s.TLS.ClientKey = p.Cert, p.Key
		}
	}
	return &out
}

// sessionCert brings the certificate files of rec up to date (the chain
// may have re-signed it) and returns the session's configuration with
// them in force (env, exec).
func sessionCert(s *session, rec *store.Record) error {
	if rec == nil || rec.ClientCert == nil {
		return nil
	}
	dir, err := clientcert.Dir(s.e.Getenv, rec.Profile)
	if err != nil {
		return err
	}
	p := clientcert.PathsIn(dir)
	if !clientcert.Same(p, rec.ClientCert) {
		if p, err = clientcert.Write(dir, rec.ClientCert); err != nil {
			return err
		}
	}
	s.cfg = withCertTLS(s.cfg, rec.ClientCert, p)
	return nil
}

// certSigner is the renewal chain's adapter: it re-signs at the
// configured PKI mount with the record's Vault token (no browser). nil
// when no PKI mount is configured.
func certSigner(cfg *config.Config) renew.CertSigner {
	if cfg.PKIMount == "" {
		return nil
	}
	return &pkiSigner{cfg: cfg}
}

type pkiSigner struct{ cfg *config.Config }

func (p *pkiSigner) client() (*apiclient.Client, error) {
	return apiclient.New("Vault", p.cfg.Vault.Addr, "X-Vault-Token", p.cfg.Vault.TLS, 30*time.Second)
}

func (p *pkiSigner) Sign(ctx context.Context, vault secret.String, rec *store.Record) (*clientcert.Cert, error) {
	v, err := p.client()
	if err != nil {
		return nil, err
	}
	return clientcert.Sign(ctx, v.WithToken(vault), p.cfg.PKIMount, rec.Profile, rec.User, 0)
}

func (p *pkiSigner) Revoke(ctx context.Context, vault secret.String, c *clientcert.Cert) error {
	v, err := p.client()
	if err != nil {
		return err
	}
	return clientcert.Revoke(ctx, v.WithToken(vault), p.cfg.PKIMount, c)
}

// revokeCert revokes rec's certificate (while it is valid, with its key,
// at the Vault and mount it came from) and, with files, deletes the
// profile's certificate files. Both are tried; a failure is a warning, as
// the certificate expires on its own. (A login that was not kept leaves
// the files to the login that is: env and exec rewrite them from it.)
func revokeCert(ctx context.Context, e *cmdEnv, cfg *config.Config, rec *store.Record, files bool) (warnings []string) {
	if c := rec.ClientCert; c != nil && c.ValidFor(e.now(), 0) && rec.Vault.ValidFor(e.now(), 0) {
		v, err := recordVault(cfg, rec)
		if err == nil {
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err = clientcert.Revoke(rctx, v.WithToken(rec.Vault.Secret), c.Mount, c)
			cancel()
		}
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("could not revoke the client certificate %s: %v; it expires at %s",
				termtext.Clean(c.Serial), err, c.NotAfter.Local().Format(time.RFC3339)))
		}
	}
	if !files {
		return warnings
	}
	if dir, err := clientcert.Dir(e.Getenv, rec.Profile); err == nil {
		if err := clientcert.Remove(dir); err != nil {
			warnings = append(warnings, err.Error())
		}
	}
	return warnings
}

// certStatus is what status shows of the certificate.
type certStatus struct {
	Subject   string    `json:"subject"`
	Serial    string    `json:"serial"`
	ExpiresAt time.Time `json:"expires_at"`
	Valid     bool      `json:"valid"`
}

func statusCert(rec *store.Record, now time.Time) *certStatus {
	if rec == nil || rec.ClientCert == nil {
		return nil
	}
	c := rec.ClientCert
	return &certStatus{Subject: c.Subject, Serial: c.Serial, ExpiresAt: c.NotAfter, Valid: c.ValidFor(now, 0)}
}

// text is the certificate's line in status and after login (cleaned: the
// subject comes from the SSO through Vault).
func (c *certStatus) text(now time.Time) string {
	left := "expired"
	if d := c.ExpiresAt.Sub(now); d > 0 {
		left = "valid for " + d.Round(time.Second).String()
	}
	return fmt.Sprintf("%s, serial %s, %s, until %s", termtext.Clean(c.Subject), termtext.Clean(c.Serial), left, c.ExpiresAt.Local().Format("15:04:05 MST"))
}

func (c *certStatus) write(w io.Writer, now time.Time) {
	if c != nil {
		fmt.Fprintf(w, "client certificate: %s\n", c.text(now))
	}
}
