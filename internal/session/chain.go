package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sync"
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
	"github.com/alisw/alilogin/internal/termtext"
)

// The renewal chain (internal/renew) wired to this session's servers:
// ensurer builds it, and the rest of this file is its ports' adapters,
// each an HTTP edge that turns the servers' answers into the chain's
// sentinel errors (domainError): vaultOps (renew.VaultAPI on
// internal/issue), ssoRefresher (renew.SSO on internal/oidc: the one
// place the refresh token is sent for new tokens), pkiSigner
// (renew.CertSigner on internal/clientcert), and the direct login's
// (directLogin, vaultProbe). Step 4's fresh login is freshlogin.go's.

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
	dir, err := renew.LockDir(s.Env.getenv)
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
	case apiclient.StatusOf(err) == http.StatusForbidden:
		return &chainError{err, renew.ErrDenied}
	case errors.Is(err, issue.ErrNoEngine):
		return &chainError{err, renew.ErrNoEngine}
	case apiclient.Unreachable(err):
		return &chainError{err, renew.ErrUnreachable}
	}
	return err
}

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

// The direct login at Nomad and Consul (issue 24): the adapters of the
// chain's ports renew.DirectLoginer (directLogin) and renew.VaultProbe
// (vaultProbe), and the profile's renew.Direct as the chain and the
// fresh login use it (directFor). The ID token goes only to the Nomad
// and Consul clients of the configured addresses, which are the login's
// recorded ones (renew.Chain.Bound runs first): their origin, redirect
// and proxy rules are every token's (apiclient.For).

// ProbeTimeout bounds the question to Vault of whether it can issue
// tokens (renew.Availability): a stopped Vault accepts connections and
// never answers.
const ProbeTimeout = 2 * time.Second

// vaultProbe is renew.VaultProbe: issue.AskVaultHealth read CanIssue.
type vaultProbe struct{ vault *apiclient.Client }

func (p vaultProbe) Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	err := issue.AskVaultHealth(ctx, p.vault).CanIssue(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, issue.ErrVaultSealed), errors.Is(err, issue.ErrNoActiveNode):
		return &chainError{err, renew.ErrSealed}
	}
	return &chainError{err, renew.ErrUnreachable}
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

// availability is the configured Vault's short probe with its memory in
// the lock directory (none when that cannot be found: every call probes).
func availability(e Env, cfg *config.Config, cl *Clients) *renew.Availability {
	addr, _ := check.Canonical(cfg.Vault.Addr)
	a := &renew.Availability{Addr: addr, Probe: vaultProbe{cl.Vault}, Now: e.now}
	if dir, err := renew.LockDir(e.getenv); err == nil {
		a.Memory = renew.FileMemory{Dir: dir}
	}
	return a
}

// directLogin is renew.DirectLoginer on issue.DirectLogin.
type directLogin struct {
	env Env
	cfg *config.Config
	cl  *Clients
}

// DirectLogin logs in to the servers of kinds in parallel and puts the
// tokens in rec; a replaced Consul token of a direct login is logged out
// (a Nomad one lives until its expiry: Nomad lets only management tokens
// delete tokens).
func (d *directLogin) DirectLogin(ctx context.Context, rec *store.Record, idToken secret.String, kinds []store.Kind) (*renew.Result, []error) {
	rep := &renew.Result{}
	p, _ := d.cfg.Profile(rec.Profile)
	toks, errs := make([]*store.Token, len(kinds)), make([]error, len(kinds))
	var wg sync.WaitGroup
	for i, k := range kinds {
		server, method := d.server(k), p.Direct.Method(string(k))
		if server == nil || method == "" {
			errs[i] = fmt.Errorf("could not log in to %s directly: profile %s has no auth method there", k.Title(), rec.Profile)
			continue
		}
		wg.Go(func() { toks[i], errs[i] = issue.DirectLogin(ctx, server, k, method, idToken, d.env.now()) })
	}
	wg.Wait()
	var out []error
	for i, k := range kinds {
		if errs[i] != nil {
			out = append(out, &kindError{k, errs[i]})
			continue
		}
		old := rec.Token(k)
		rec.SetToken(k, toks[i])
		rep.Steps = append(rep.Steps, fmt.Sprintf("logged in to %s directly (auth method %s)", k, termtext.Clean(p.Direct.Method(string(k)))))
		if w := d.logoutReplaced(ctx, k, rec.ConsulAddr, old); w != "" {
			rep.Warnings = append(rep.Warnings, w)
		}
	}
	rep.Changed = len(out) < len(kinds)
	return rep, out
}

func (d *directLogin) server(k store.Kind) *apiclient.Client {
	switch k {
	case store.Nomad:
		return d.cl.Nomad
	case store.Consul:
		return d.cl.Consul
	}
	return nil
}

// logoutReplaced logs out of Consul the direct token old, replaced and
// still valid, at addr, the Consul that issued it (logoutConsulAt); a
// warning when it could not.
func (d *directLogin) logoutReplaced(ctx context.Context, k store.Kind, addr string, old *store.Token) string {
	if k != store.Consul || !old.Direct() || !old.ValidFor(d.env.now(), 0) {
		return ""
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := logoutConsulAt(rctx, d.cfg, addr, old); err != nil {
		return fmt.Sprintf("the replaced Consul token %s was not logged out: %v", termtext.Clean(old.Accessor), err)
	}
	return ""
}
