package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// Client certificates from Vault PKI (internal/clientcert): each hook
// point of Login, the renewal chain, Ensure (env, exec), Describe
// (status) and Logout is one call into this file.

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

// withCertTLS is cfg with the certificate files p as the client
// certificate of Nomad and Consul, where none was configured by hand (a
// grid certificate in NOMAD_CLIENT_CERT or the config file wins). The CA
// settings are left as configured: the servers' own certificates need not
// come from the PKI that signs the users'; env and exec hand out the
// configured *_CACERT with the certificate (envcontract.FromRecord).
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

// useCert brings the certificate files of rec up to date in this
// environment's directory (the chain may have re-signed the
// certificate; env or exec may run where no alilogin wrote the files
// yet: another $XDG_RUNTIME_DIR, or none, from cron or ssh) and puts
// them in force in s.Config (env, exec). Files go into a directory only
// once the stored login names it (writeCertFiles), so that a logout from
// any environment finds them.
func (s *Session) useCert(ctx context.Context, rec *store.Record) error {
	if rec == nil || rec.ClientCert == nil {
		return nil
	}
	dir, err := clientcert.Dir(s.Env.getenv, rec.Profile)
	if err != nil {
		return err
	}
	if real, err := clientcert.Resolve(dir); err == nil {
		dir = real // as Write records it
	}
	p := clientcert.PathsIn(dir)
	if !clientcert.Same(p, rec.ClientCert) || !slices.Contains(rec.CertFileDirs(), dir) {
		if p, err = s.writeCertFiles(ctx, rec, dir); err != nil {
			return err
		}
		if rec.ClientCert == nil {
			return nil
		}
	}
	s.Config = withCertTLS(s.Config, rec.ClientCert, p)
	return nil
}

// CertLockWait is how long env, exec and the hook wait for the profile's
// lock to write the certificate's files: a renewal's wait
// (renew.DefaultLockWait), not a login's.
var CertLockWait = renew.DefaultLockWait

// writeCertFiles writes the files of the stored login's certificate in
// dir under the profile's lock (waiting CertLockWait at most), as logout
// deletes them: it reads the login again (a logout meanwhile: not logged
// in, and nothing written, so what logout removed never comes back; a
// renewal meanwhile: its certificate, which rec then takes), makes and
// checks the directory (clientcert.Prepare), records its resolved path
// in the login (stored before the files are written, and only once the
// checks have passed) and writes the files. rec.ClientCert is nil when
// the stored login has no certificate any more.
func (s *Session) writeCertFiles(ctx context.Context, rec *store.Record, dir string) (clientcert.Paths, error) {
	e := s.Env
	if e.LockWait <= 0 || e.LockWait > CertLockWait {
		e.LockWait = CertLockWait
	}
	p := clientcert.PathsIn(dir)
	l, err := LockForWrite(ctx, e, rec.Profile)
	if err != nil {
		return p, err
	}
	defer l.Release()
	st := store.Authoritative(s.Store)
	cur, err := st.Get(rec.Profile)
	if errors.Is(err, store.ErrNotFound) {
		return p, fmt.Errorf("%w: %w", renew.ErrLoginNeeded, err)
	}
	if err != nil {
		return p, err
	}
	rec.ClientCert, rec.CertDirs = cur.ClientCert, cur.CertDirs
	if cur.ClientCert == nil {
		return p, nil
	}
	if dir, err = clientcert.Prepare(dir); err != nil {
		return p, err
	}
	p = clientcert.PathsIn(dir)
	if !slices.Contains(cur.CertFileDirs(), dir) {
		cur.AddCertDir(dir)
		if err := st.Put(cur); err != nil {
			return p, fmt.Errorf("could not record the client certificate's directory %s in the stored login: %w", dir, err)
		}
		rec.CertDirs = cur.CertDirs
	}
	if clientcert.Same(p, cur.ClientCert) {
		return p, nil
	}
	return clientcert.Write(dir, cur.ClientCert)
}

// certSigner is the renewal chain's adapter: it re-signs at the
// configured PKI mount with the record's Vault token (no browser). nil
// when no PKI mount is configured. Once it has signed, it writes the new
// certificate's files and points cl's Nomad and Consul clients at them,
// so that the chain's re-mints in the same run present the new
// certificate (the chain signs before it mints). cl nil: a chain that
// only judges freshness (Chain.Fresh), never runs.
func certSigner(e Env, cfg *config.Config, cl *Clients) renew.CertSigner {
	if cfg.PKIMount == "" {
		return nil
	}
	return &pkiSigner{e: e, cfg: cfg, cl: cl}
}

type pkiSigner struct {
	e   Env
	cfg *config.Config
	cl  *Clients // shared with the chain's vaultOps
}

func (p *pkiSigner) Sign(ctx context.Context, vault secret.String, rec *store.Record) (*clientcert.Cert, error) {
	c, err := clientcert.Sign(ctx, p.cl.Vault.WithToken(vault), p.cfg.PKIMount, rec.Profile, rec.User, 0)
	if err != nil {
		return nil, domainError(err)
	}
	paths, err := writeCert(p.e, rec.Profile, c)
	if err != nil {
		return nil, err
	}
	n, err := NewClients(withCertTLS(p.cfg, c, paths))
	if err != nil {
		return nil, err
	}
	p.cl.Nomad, p.cl.Consul = n.Nomad, n.Consul
	return c, nil
}

// Revoke revokes c with its key at the mount that signed it (as logout
// does; the configured one for a record that does not say), at the
// chain's Vault: the configured one, which the chain uses only when it
// is the Vault of the record (renew.Chain.Bound), which signed c.
func (p *pkiSigner) Revoke(ctx context.Context, vault secret.String, c *clientcert.Cert) error {
	mount := c.Mount
	if mount == "" {
		mount = p.cfg.PKIMount
	}
	return domainError(clientcert.Revoke(ctx, p.cl.Vault.WithToken(vault), mount, c))
}

// revokeCert revokes rec's certificate (while it is valid, with its key,
// at the Vault and mount it came from) and, with files, deletes the
// certificate files: in every directory the record says an alilogin
// wrote them to (store.Record.CertFileDirs: each environment, another
// $XDG_RUNTIME_DIR or none, from ssh or cron, has its own) and in those
// of the current environment (clientcert.EnvDirs), each only when it is
// what Write makes (clientcert.Remove: no symlink, ours, only our
// files). All are tried; a
// failure is a warning, as the certificate expires on its own. When the
// Vault token has expired there is nothing to revoke with: Vault revoked
// the certificate with the token's leases (the role's generate_lease),
// which is checked at <mount>/cert/<serial> (public) and said; a
// certificate that is still unrevoked there is a warning with its
// expiry. (A login that was not kept deletes its own files,
// dropCertFiles; env and exec write the kept login's.)
func revokeCert(ctx context.Context, e Env, cfg *config.Config, rec *store.Record, files bool) (warnings []string) {
	var done []string
	if c := rec.ClientCert; c != nil && c.ValidFor(e.now(), 0) {
		v, err := recordVault(cfg, rec)
		if rec.Vault.ValidFor(e.now(), 0) {
			if err == nil {
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err = clientcert.Revoke(rctx, v.WithToken(rec.Vault.Secret), c.Mount, c) // "could not revoke the client certificate <serial>: ..."
				cancel()
			} else {
				err = fmt.Errorf("could not revoke the client certificate %s: %w", c.Serial, err)
			}
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("%s; it expires at %s", termtext.Clean(err.Error()), c.NotAfter.Local().Format(time.RFC3339)))
			}
		} else {
			revoked := false
			if err == nil {
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				revoked, err = clientcert.Revoked(rctx, v, c)
				cancel()
			}
			switch {
			case err == nil && revoked:
				fmt.Fprintf(e.stderr(), "alilogin: the client certificate %s died with its Vault token: Vault has revoked it\n", termtext.Clean(c.Serial))
			case err == nil:
				warnings = append(warnings, fmt.Sprintf("could not revoke the client certificate %s: its Vault token has expired, and Vault has not revoked the certificate with it; it expires at %s",
					termtext.Clean(c.Serial), c.NotAfter.Local().Format(time.RFC3339)))
			default:
				warnings = append(warnings, fmt.Sprintf("could not revoke the client certificate %s: its Vault token has expired, and %v; it expires at %s",
					termtext.Clean(c.Serial), err, c.NotAfter.Local().Format(time.RFC3339)))
			}
		}
	}
	if !files {
		return warnings
	}
	// Every directory an alilogin may have written the files in: those
	// the record names, from whatever environment, and this
	// environment's own.
	for _, d := range slices.Concat(rec.CertFileDirs(), clientcert.EnvDirs(e.getenv, rec.Profile)) {
		if !slices.Contains(done, d) {
			done = append(done, d)
			if err := clientcert.Remove(d); err != nil {
				warnings = append(warnings, termtext.Clean(err.Error()))
			}
		}
	}
	return warnings
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
