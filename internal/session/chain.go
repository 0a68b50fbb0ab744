package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/oidc"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// The renewal chain (internal/renew) as a command enters it, top to
// bottom: Session.Ensure (step 1 here, before any client is built; the
// certificate's files in force for env and exec, useCert), ensurer,
// which wires the chain to this session's servers, and its ports'
// adapters, each an HTTP edge that turns the servers' answers into the
// chain's sentinel errors (domainError): vaultOps (renew.VaultAPI on
// internal/issue), ssoRefresher (renew.SSO on internal/oidc: the one
// place the refresh token is sent for new tokens), pkiSigner
// (renew.CertSigner on internal/clientcert), and the profile's direct
// login (directFor; its adapters are direct.go's). Step 4's fresh login
// is freshlogin.go's.

// EnsureOptions say which tokens Ensure brings to validity.
type EnsureOptions struct {
	Kinds   []store.Kind // empty: every kind the record holds
	MinTTL  time.Duration
	Verbose bool // say each step of the chain on stderr
	// CertFiles: the client certificate's files are brought up to date
	// and put in force in Session.Config even when nothing is renewed
	// (env, exec); after a renewal they always are (useCert).
	CertFiles bool
}

// Ensure returns the profile's record with the tokens of o.Kinds valid
// for longer than o.MinTTL, through the renewal chain (renew.Ensurer),
// whose step 4 is a fresh Vault login from a refresh grant. It reports
// the chain's steps (with Verbose) and warnings on stderr. The kinds are
// returned as resolved.
func (s *Session) Ensure(ctx context.Context, o EnsureOptions) (*store.Record, []store.Kind, error) {
	// Step 1 first, before any client is built: no network, little work.
	rec, err := s.Store.Get(s.Profile)
	if err != nil {
		// (Without kinds, a missing record is said as the store says
		// it, as env and exec always have.)
		if errors.Is(err, store.ErrNotFound) && len(o.Kinds) > 0 {
			return nil, nil, fmt.Errorf("%w: %w", renew.ErrLoginNeeded, err)
		}
		return nil, nil, err
	}
	kinds := o.Kinds
	if len(kinds) == 0 {
		kinds = rec.Kinds()
	}
	o.MinTTL = s.minTTLFor(rec, kinds, o.MinTTL)
	// The login must have been made with the configured servers, even
	// for a cached token: env and exec hand it out with the configured
	// addresses. When the Vault address comes from a discovery document
	// not cached yet, the Ensurer checks once it is known.
	checked := false // step 1 done here: the Ensurer skips its own
	if s.Config.Vault.Addr != "" {
		servers, err := ConfiguredServers(s.Config)
		if err != nil {
			return nil, nil, err
		}
		ch := &renew.Chain{Servers: servers, MinTTL: o.MinTTL, Now: s.Env.now, Cert: certSigner(s.Env, s.Config, nil)}
		if err := ch.Bound(rec, kinds); err != nil {
			return nil, nil, err
		}
		if ch.Fresh(rec, kinds) {
			if o.CertFiles {
				return rec, kinds, s.useCert(ctx, rec)
			}
			return rec, kinds, nil
		}
		checked = true
	}
	// The certificate's files in force for the chain's own calls to
	// Nomad and Consul (useCert).
	if err := s.useCert(ctx, rec); err != nil {
		return nil, nil, err
	}
	// A Vault token that has expired cannot be renewed: step 4 will
	// follow, if the login was made with the configured SSO.
	en, err := s.ensurer(ctx, o.MinTTL, !rec.Vault.ValidFor(s.Env.now(), 0) && rec.Issuer == s.Config.Issuer && rec.ClientID == s.Config.ClientID)
	if err != nil {
		return nil, nil, err
	}
	ensure := en.Ensure
	if checked {
		ensure = en.Renew
	}
	rec, res, err := ensure(ctx, s.Profile, kinds)
	if o.Verbose {
		for _, st := range res.Steps {
			fmt.Fprintf(s.Env.stderr(), "alilogin: %s: %s\n", s.Profile, st)
		}
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(s.Env.stderr(), "alilogin: warning: %s\n", w)
	}
	if err != nil {
		return nil, nil, err
	}
	return rec, kinds, s.useCert(ctx, rec) // the chain may have re-signed it
}

// capMinTTL lowers a --min-ttl that no token of the profile can meet: at
// or above the validity the servers grant its tokens (the TTL of the
// Vault token, which every other token dies with, and of each token of
// kinds), every call would renew, re-mint and finally log in again,
// revoking the tokens other shells hold. It is lowered to half the
// shortest such TTL, so that a token is renewed once half its life is
// gone. ttl is that TTL; capped says whether minTTL was lowered. A
// record that does not know its TTLs (written by an earlier alilogin,
// or holding only a refresh token) leaves minTTL as it is.
func capMinTTL(rec *store.Record, kinds []store.Kind, minTTL time.Duration) (capped bool, use, ttl time.Duration) {
	for _, k := range append([]store.Kind{store.Vault}, kinds...) {
		if t := rec.Token(k); t != nil && t.TTL > 0 && (ttl == 0 || t.TTL < ttl) {
			ttl = t.TTL
		}
	}
	if ttl == 0 || minTTL < ttl {
		return false, minTTL, ttl
	}
	return true, ttl / 2, ttl
}

// minTTLFor is capMinTTL that says, once per Session, on stderr when it
// lowers minTTL.
func (s *Session) minTTLFor(rec *store.Record, kinds []store.Kind, minTTL time.Duration) time.Duration {
	capped, use, ttl := capMinTTL(rec, kinds, minTTL)
	if capped && !s.minTTLSaid {
		s.minTTLSaid = true
		fmt.Fprintf(s.Env.stderr(), "alilogin: --min-ttl %s is not below the %s the tokens of profile %s are given; using %s\n",
			minTTL, ttl, s.Profile, use)
	}
	return use
}

// ParseKinds reads --for values (repeatable or comma-separated).
func ParseKinds(vals []string) ([]store.Kind, error) {
	var out []store.Kind
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			k, err := store.ParseKind(s)
			if err != nil {
				return nil, usage(err)
			}
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out, nil
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
// (store.DefaultLockWait), not a login's.
var CertLockWait = store.DefaultLockWait

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

// ensurer wires the chain; prefetchSSO starts reading the SSO's discovery
// document at once, when step 4 is all but certain.
func (s *Session) ensurer(ctx context.Context, minTTL time.Duration, prefetchSSO bool) (*renew.Ensurer, error) {
	cfg, err := s.fullConfig(ctx)
	if err != nil {
		return nil, err
	}
	s.Config = cfg
	if cfg.Vault.Addr == "" {
		return nil, errors.New("no Vault address configured (set VAULT_ADDR or vault { address = ... } in the config file)")
	}
	servers, err := ConfiguredServers(cfg)
	if err != nil {
		return nil, err
	}
	cl, err := NewClients(cfg)
	if err != nil {
		return nil, err
	}
	dir, err := store.LockDir(s.Env.getenv)
	if err != nil {
		return nil, err
	}
	var sso renew.SSO
	if cfg.ClientID != "" && cfg.Issuer != "" {
		r := &ssoRefresher{cfg: oidc.Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID, Scopes: cfg.Scopes,
			RolesClaim: cfg.RolesClaim, UserClaim: cfg.UserClaim, InsecureHTTP: cfg.InsecureHTTP, Now: s.Env.Now}}
		if prefetchSSO {
			r.prefetch(ctx)
		}
		sso = r
	}
	return &renew.Ensurer{
		Chain: &renew.Chain{Vault: &vaultOps{cl: cl, cfg: cfg, now: s.Env.now}, SSO: sso, Login: &freshLogin{env: s.Env, cfg: cfg, cl: cl}, Issuer: cfg.Issuer, ClientID: cfg.ClientID,
			Servers: servers, MinTTL: minTTL, Now: s.Env.now, Cert: certSigner(s.Env, cfg, cl), // below
			Direct: directFor(s.Env, cfg, cl, s.Profile)}, // direct.go
		Store:   store.Authoritative(s.Store),
		LockDir: dir,
	}, nil
}

// ConfiguredServers are the canonical addresses of the configured Vault,
// Nomad and Consul (empty where none is configured), as a login records
// them.
//
// With each, how its certificate is checked (apiclient.Trust of its CA
// file and TLS server name, and of this process's SSL_CERT_FILE and
// SSL_CERT_DIR, which Go's crypto/x509 reads for the system's roots).
func ConfiguredServers(cfg *config.Config) (renew.Servers, error) {
	var out renew.Servers
	for _, s := range []struct {
		kind       store.Kind
		srv        config.Server
		dst, trust *string
	}{{store.Vault, cfg.Vault, &out.Vault, &out.VaultTrust}, {store.Nomad, cfg.Nomad, &out.Nomad, &out.NomadTrust}, {store.Consul, cfg.Consul, &out.Consul, &out.ConsulTrust}} {
		if s.srv.Addr == "" {
			continue
		}
		c, err := check.Canonical(s.srv.Addr)
		if err != nil {
			return renew.Servers{}, fmt.Errorf("invalid %s address: %w", s.kind.Title(), err)
		}
		*s.dst = c
		// A CA file that cannot be read matches no recorded trust (login
		// needed for a login that has one; dialing fails anyway); a login
		// without one is accepted as before.
		t, err := apiclient.Trust(s.srv.TLS.CACert, s.srv.TLS.ServerName, os.Getenv, runtime.GOOS)
		if err != nil {
			t = "unreadable CA file"
		}
		*s.trust = t
	}
	return out, nil
}

// Clients are the configured servers' clients, without a token.
type Clients struct {
	Vault         *apiclient.Client
	Nomad, Consul *apiclient.Client // nil when no address is configured
}

// NewClients builds the clients of the configured Vault, Nomad and
// Consul (apiclient.For).
func NewClients(cfg *config.Config) (*Clients, error) {
	v, err := apiclient.For(apiclient.Vault, cfg.Vault.Addr, cfg.Vault.TLS)
	if err != nil {
		return nil, err
	}
	c := &Clients{Vault: v}
	if cfg.Nomad.Addr != "" {
		if c.Nomad, err = apiclient.For(apiclient.Nomad, cfg.Nomad.Addr, cfg.Nomad.TLS); err != nil {
			return nil, err
		}
	}
	if cfg.Consul.Addr != "" {
		if c.Consul, err = apiclient.For(apiclient.Consul, cfg.Consul.Addr, cfg.Consul.TLS); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// target is where kind k of the profile is minted; nil when its server
// has no configured address.
func (c *Clients) target(cfg *config.Config, k store.Kind) *issue.Target {
	switch {
	case k == store.Nomad && c.Nomad != nil:
		return &issue.Target{Mount: cfg.Nomad.Mount, Server: c.Nomad}
	case k == store.Consul && c.Consul != nil:
		return &issue.Target{Mount: cfg.Consul.Mount, Server: c.Consul}
	}
	return nil
}

// vaultOps is renew.VaultAPI on internal/issue, with the session's clock.
type vaultOps struct {
	cl  *Clients
	cfg *config.Config
	now func() time.Time
}

func (o *vaultOps) RenewSelf(ctx context.Context, t *store.Token) (*store.Token, error) {
	nt, err := issue.Renew(ctx, o.cl.Vault.WithToken(t.Secret), 0, o.now())
	if err != nil {
		return nil, domainError(err)
	}
	cp := *t
	cp.ExpiresAt, cp.Renewable, cp.TTL = nt.ExpiresAt, nt.Renewable, nt.TTL
	if len(nt.Policies) > 0 {
		cp.Policies = nt.Policies
	}
	return &cp, nil
}

func (o *vaultOps) RenewLease(ctx context.Context, vault secret.String, t *store.Token) (*store.Token, error) {
	l, err := issue.RenewLease(ctx, o.cl.Vault.WithToken(vault), t.LeaseID, 0, o.now())
	if err != nil {
		return nil, domainError(err)
	}
	cp := *t
	cp.ExpiresAt, cp.Renewable, cp.TTL = l.ExpiresAt, l.Renewable, l.TTL
	return &cp, nil
}

// Mint mints one token (mintOne). A token its server did not answer
// for (*issue.CheckError) is kept: the chain's re-mints go on without
// its policies.
func (o *vaultOps) Mint(ctx context.Context, vault secret.String, k store.Kind, profile string) (*store.Token, error) {
	t, err := mintOne(ctx, o.cl, o.cfg, vault, k, profile, o.now())
	var ce *issue.CheckError
	if t != nil && errors.As(err, &ce) {
		return t, nil
	}
	return t, domainError(err)
}

func (o *vaultOps) RevokeLease(ctx context.Context, vault secret.String, leaseID string) error {
	return domainError(issue.RevokeLease(ctx, o.cl.Vault.WithToken(vault), leaseID))
}

func (o *vaultOps) RevokeSelf(ctx context.Context, vault secret.String) error {
	return domainError(issue.Revoke(ctx, o.cl.Vault.WithToken(vault)))
}

// domainError is err, its text unchanged, matching (errors.Is) what the
// renewal chain needs to know of it: renew.ErrDenied when the server
// refused the token (HTTP 403), renew.ErrUnreachable when no server
// answered. The chain knows no HTTP.
func domainError(err error) error {
	switch {
	case err == nil:
		return nil
	case refused(err):
		return &chainError{err, renew.ErrDenied}
	case errors.Is(err, issue.ErrNoEngine):
		return &chainError{err, renew.ErrNoEngine}
	case apiclient.Unreachable(err):
		return &chainError{err, renew.ErrUnreachable}
	}
	return err
}

// refused reports whether a server refused the token a call sent (HTTP
// 403; Vault answers it for a token revoked or expired, too): the one
// place that reads that status for the chain, a revocation and logout.
func refused(err error) bool { return apiclient.StatusOf(err) == http.StatusForbidden }

// chainError is an adapter's error with the renewal chain's sentinel.
type chainError struct{ err, sentinel error }

func (e *chainError) Error() string { return e.err.Error() }

func (e *chainError) Unwrap() []error { return []error{e.err, e.sentinel} }

// ssoRefresher is renew.SSO on internal/oidc.
type ssoRefresher struct {
	cfg     oidc.Config
	started chan struct{} // closed when the prefetch is done; nil: none
	client  *oidc.Client
	err     error
}

// prefetch reads the SSO's discovery document in the background.
func (s *ssoRefresher) prefetch(ctx context.Context) {
	s.started = make(chan struct{})
	go func() {
		defer close(s.started)
		s.client, s.err = oidc.New(ctx, s.cfg)
	}()
}

// Refresh is the one place the refresh token is sent for new tokens.
func (s *ssoRefresher) Refresh(ctx context.Context, rt secret.String) (*renew.Refreshed, error) {
	var c *oidc.Client
	var err error
	if s.started != nil {
		<-s.started
		c, err = s.client, s.err
	} else {
		c, err = oidc.New(ctx, s.cfg)
	}
	if err != nil {
		return nil, err
	}
	go c.PrefetchKeys(ctx) // verifying the new ID token needs them: fetch them meanwhile
	r, err := c.Refresh(ctx, rt)
	if err != nil {
		if errors.Is(err, oidc.ErrRefreshRefused) {
			return nil, fmt.Errorf("%w: %w", renew.ErrLoginNeeded, err)
		}
		return nil, err
	}
	out := &renew.Refreshed{IDToken: r.IDToken, RefreshToken: r.RefreshToken}
	if r.Identity != nil {
		out.IDTokenExp, out.User, out.Roles = r.Identity.Expiry, r.Identity.User, r.Identity.Roles
		out.Issuer, out.Subject = r.Identity.Issuer, r.Identity.Subject
	}
	return out, nil
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

// directFor is the profile's direct login for the chain and the fresh
// login; nil when the profile has none (or no server of it is
// configured).
func directFor(e Env, cfg *config.Config, cl *Clients, profile string) *renew.Direct {
	p, ok := cfg.Profile(profile)
	if !ok || !p.Direct.On() {
		return nil
	}
	dl := &directLogin{env: e, cfg: cfg, cl: cl}
	d := &renew.Direct{Mode: p.Direct.Mode, Login: dl, Vault: availability(e, cfg, cl),
		LogoutConsul: func(ctx context.Context, addr string, t *store.Token) string {
			return dl.logoutReplaced(ctx, store.Consul, addr, t)
		}}
	if p.Direct.NomadAuthMethod != "" && cl.Nomad != nil && !p.NoNomad {
		d.Kinds = append(d.Kinds, store.Nomad)
	}
	if p.Direct.ConsulAuthMethod != "" && cl.Consul != nil && !p.NoConsul {
		d.Kinds = append(d.Kinds, store.Consul)
	}
	if len(d.Kinds) == 0 {
		return nil
	}
	return d
}
