package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/exitcode"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/oidc"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// This file is what token, env, exec, status and logout share: choosing the
// profile, opening the store, and wiring the renewal chain to the servers.

// serverTimeout bounds each call to Vault, Nomad, Consul or the SSO made by
// the renewal chain and logout.
const serverTimeout = 30 * time.Second

// sessionOptions are the flags every session command has.
type sessionOptions struct {
	Profile string
	Store   string
}

func addSessionFlags(c *cobra.Command, o *sessionOptions) {
	c.Flags().StringVarP(&o.Profile, "profile", "p", "", "profile to use (default: ALILOGIN_PROFILE, the configured default, or the only stored one)")
	c.Flags().StringVar(&o.Store, "store", "", "where logins are kept: keyring or file (default: ALILOGIN_STORE, else automatic)")
}

// session is a profile's stored login with what is needed to renew it.
type session struct {
	e       *cmdEnv
	cfg     *config.Config // environment + config file; no network
	st      store.Store
	profile string
	// fromKeyring: the record was read from the OS keyring by the fast
	// read, so the renewal chain may rewrite it there the fast way.
	fromKeyring bool
}

func (e *cmdEnv) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}

// openSession loads the local configuration, opens the store and picks the
// profile: --profile, else ALILOGIN_PROFILE or the configured default, else
// the only stored login. It makes no network call.
func openSession(e *cmdEnv, o sessionOptions) (*session, error) {
	cfg, st, err := loadLocal(e, o)
	if err != nil {
		return nil, err
	}
	s := &session{e: e, cfg: cfg, st: st, profile: o.Profile}
	if s.profile == "" {
		s.profile = cfg.DefaultProfile
	}
	if s.profile == "" {
		names, err := st.List()
		if err != nil {
			return nil, fmt.Errorf("could not list stored logins: %w", err)
		}
		switch len(names) {
		case 0:
			return nil, exitcode.With(exitLoginNeeded, errors.New("not logged in; run: alilogin login"))
		case 1:
			s.profile = names[0]
		default:
			return nil, exitcode.With(exitUsage, fmt.Errorf("logged in to several profiles (%s); choose one with --profile or ALILOGIN_PROFILE", strings.Join(names, ", ")))
		}
	}
	if !config.ValidProfileName(s.profile) {
		return nil, exitcode.With(exitUsage, fmt.Errorf("invalid profile name %q", s.profile))
	}
	return s, nil
}

// loadLocal reads the configuration from the environment and the config
// file (no discovery, no network) and opens the store.
func loadLocal(e *cmdEnv, o sessionOptions) (*config.Config, store.Store, error) {
	cfg, err := config.Resolve(config.Sources{Getenv: e.getenv, Discover: cachedDiscovery(e)})
	if err != nil {
		return nil, nil, err
	}
	st, err := openStore(e, o, cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

// openStore opens the store --store names, else the configured one.
func openStore(e *cmdEnv, o sessionOptions, cfg *config.Config) (store.Store, error) {
	kind := o.Store
	if kind == "" {
		kind = cfg.Store
	}
	st, err := store.Open(kind, e.getenv, e.Stderr)
	if err != nil {
		return nil, exitcode.With(exitUsage, err)
	}
	return st, nil
}

// cachedDiscovery is a config.Sources.Discover that reads the broker's
// discovery document from the copy `alilogin login` and `setup` keep, and
// never the network: a missing copy is an empty layer.
func cachedDiscovery(e *cmdEnv) func(string) (config.Config, error) {
	return func(broker string) (config.Config, error) {
		dir, err := config.Dir(e.getenv)
		if err != nil {
			return config.Config{}, nil
		}
		d, err := config.ReadDiscoveryCache(dir, broker)
		if err != nil {
			return config.Config{}, nil
		}
		return config.FromDiscovery(d), nil
	}
}

// fullConfig is the configuration with the broker's discovery document
// fetched when the cached copy is missing: for the steps that talk to
// servers anyway.
func (s *session) fullConfig(ctx context.Context) (*config.Config, error) {
	if s.cfg.Vault.Addr != "" || s.cfg.Broker == "" {
		return s.cfg, nil
	}
	dir, err := config.Dir(s.e.getenv)
	if err != nil {
		return nil, err
	}
	return config.Resolve(config.Sources{Getenv: s.e.getenv, Discover: config.Discoverer(ctx, nil, dir)})
}

// loginNeeded is the one-line hint and exit code for a profile that needs
// a new interactive login.
func loginNeeded(profile string) error {
	return exitcode.With(exitLoginNeeded, fmt.Errorf("not logged in for profile %s; run: alilogin login --profile %s", profile, profile))
}

// sessionError turns the errors of the store and the chain into what the
// user should do next.
func sessionError(profile string, err error) error {
	var ce *store.CorruptError
	switch {
	case err == nil:
		return nil
	case errors.As(err, new(*renew.BindingError)), errors.As(err, new(*renew.IdentityChangedError)), errors.As(err, new(*renew.ServerBindingError)):
		return exitcode.With(exitLoginNeeded, fmt.Errorf("%w; run: alilogin login --profile %s", err, profile))
	case errors.Is(err, renew.ErrLoginNeeded):
		return loginNeeded(profile)
	case errors.As(err, &ce):
		return fmt.Errorf("%w (or remove it with: alilogin logout --profile %s)", err, profile)
	}
	return err
}

// configuredServers are the canonical addresses of the configured Vault,
// Nomad and Consul (empty where none is configured), as a login records
// them.
func configuredServers(cfg *config.Config) (renew.Servers, error) {
	var out renew.Servers
	for _, s := range []struct {
		name string
		addr string
		dst  *string
	}{{"Vault", cfg.Vault.Addr, &out.Vault}, {"Nomad", cfg.Nomad.Addr, &out.Nomad}, {"Consul", cfg.Consul.Addr, &out.Consul}} {
		if s.addr == "" {
			continue
		}
		c, err := check.Canonical(s.addr)
		if err != nil {
			return renew.Servers{}, fmt.Errorf("invalid %s address: %w", s.name, err)
		}
		*s.dst = c
	}
	return out, nil
}

// ensurer wires the chain; prefetchSSO starts reading the SSO's discovery
// document at once, when step 4 is all but certain.
func (s *session) ensurer(ctx context.Context, minTTL time.Duration, prefetchSSO bool) (*renew.Ensurer, error) {
	cfg, err := s.fullConfig(ctx)
	if err != nil {
		return nil, err
	}
	s.cfg = cfg
	if s.cfg.Vault.Addr == "" {
		return nil, errors.New("no Vault address configured (set VAULT_ADDR or vault { address = ... } in the config file)")
	}
	servers, err := configuredServers(s.cfg)
	if err != nil {
		return nil, err
	}
	v, err := newVaultOps(s.cfg)
	if err != nil {
		return nil, err
	}
	dir, err := renew.LockDir(s.e.getenv)
	if err != nil {
		return nil, err
	}
	var sso renew.SSO
	if s.cfg.ClientID != "" && s.cfg.Issuer != "" {
		r := &ssoRefresher{cfg: oidc.Config{Issuer: s.cfg.Issuer, ClientID: s.cfg.ClientID, Scopes: s.cfg.Scopes,
			RolesClaim: s.cfg.RolesClaim, UserClaim: s.cfg.UserClaim, InsecureHTTP: s.cfg.InsecureHTTP, Now: s.e.Now}}
		if prefetchSSO {
			r.prefetch(ctx)
		}
		sso = r
	}
	return &renew.Ensurer{
		Chain: &renew.Chain{Vault: v, SSO: sso, Issuer: s.cfg.Issuer, ClientID: s.cfg.ClientID, Servers: servers,
			MinTTL: minTTL, Now: s.e.now, Cert: certSigner(s.cfg)}, // clientcert.go
		Store:   chainStore{s},
		LockDir: dir,
	}, nil
}

// ensure runs the chain for kinds and reports its steps (with verbose) and
// warnings on stderr.
func (s *session) ensure(ctx context.Context, kinds []renew.Kind, minTTL time.Duration, verbose bool) (*store.Record, error) {
	// Step 1 first, before any client is built: no network, little work.
	rec, err := s.get()
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, loginNeeded(s.profile)
		}
		return nil, sessionError(s.profile, err)
	}
	// The login must have been made with the configured servers, even
	// for a cached token: env and exec hand it out with the configured
	// addresses. When the Vault address comes from a discovery document
	// not cached yet, the Ensurer checks once it is known.
	if s.cfg.Vault.Addr != "" {
		servers, err := configuredServers(s.cfg)
		if err != nil {
			return nil, err
		}
		ch := &renew.Chain{Servers: servers, MinTTL: minTTL, Now: s.e.now, Cert: certSigner(s.cfg)} // clientcert.go
		if err := ch.Bound(rec, kinds); err != nil {
			return nil, sessionError(s.profile, err)
		}
		if ch.Fresh(rec, kinds) {
			return rec, nil
		}
	}
	// A Vault token that has expired cannot be renewed: step 4 will
	// follow, if the login was made with the configured SSO.
	en, err := s.ensurer(ctx, minTTL, !rec.Vault.ValidFor(s.e.now(), 0) && rec.Issuer == s.cfg.Issuer && rec.ClientID == s.cfg.ClientID)
	if err != nil {
		return nil, err
	}
	rec, res, err := en.Ensure(ctx, s.profile, kinds)
	if verbose {
		for _, st := range res.Steps {
			fmt.Fprintf(s.e.Stderr, "alilogin: %s: %s\n", s.profile, st)
		}
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(s.e.Stderr, "alilogin: warning: %s\n", w)
	}
	if err != nil {
		return nil, sessionError(s.profile, err)
	}
	return rec, nil
}

// get reads the profile's record: from the kernel cache when it has it
// (no D-Bus at all), else as readBackend does.
func (s *session) get() (*store.Record, error) {
	if cached, ok := s.st.(*store.Cached); ok {
		if rec, ok := cached.Lookup(s.profile); ok {
			s.fromKeyring = false
			return rec, nil
		}
	}
	return s.readBackend()
}

// readBackend reads the profile's record past the kernel cache: from the
// OS keyring through the fast Secret Service read when the store uses the
// keyring, else through the store; what it read is then cached.
func (s *session) readBackend() (*store.Record, error) {
	s.fromKeyring = false
	backend := s.st
	cached, isCached := s.st.(*store.Cached)
	if isCached {
		backend = cached.Store
	}
	// The generation before the read: a copy of what a logout deletes
	// meanwhile is then never served.
	var gen store.Gen
	if isCached {
		gen = cached.Generation(s.profile)
	}
	switch backend.(type) {
	case *store.Keyring, *store.Auto:
		if rec, ok, err := store.FastKeyringGet(s.profile); ok {
			if err == nil {
				s.fromKeyring = true
				if isCached {
					cached.Remember(rec, gen)
				}
			}
			return rec, err
		}
	}
	rec, err := backend.Get(s.profile)
	if err == nil && isCached {
		cached.Remember(rec, gen)
	}
	return rec, err
}

// chainStore is the store as the renewal chain sees it: reads past the
// kernel cache (the chain decides on the backend's record, whose refresh
// token is the current one even if a cached copy were stale) through the
// fast keyring read, and the fast rewrite of a record that came from the
// keyring (then given a new generation and cached, as the store would).
type chainStore struct{ s *session }

func (c chainStore) Get(profile string) (*store.Record, error) { return c.s.readBackend() }

func (c chainStore) Delete(profile string) error { return c.s.st.Delete(profile) }

func (c chainStore) Put(r *store.Record) error {
	if c.s.fromKeyring && r.Profile == c.s.profile && store.FastKeyringUpdate(r) {
		if cached, ok := c.s.st.(*store.Cached); ok {
			cached.Wrote(r)
		}
		return nil
	}
	return c.s.st.Put(r)
}

// parseKinds reads --for values (repeatable or comma-separated).
func parseKinds(vals []string) ([]renew.Kind, error) {
	var out []renew.Kind
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			k, err := renew.ParseKind(s)
			if err != nil {
				return nil, exitcode.With(exitUsage, err)
			}
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

// presentKinds are the kinds the record holds (Vault always).
func presentKinds(rec *store.Record) []renew.Kind {
	out := []renew.Kind{renew.Vault}
	if rec.Nomad != nil {
		out = append(out, renew.Nomad)
	}
	if rec.Consul != nil {
		out = append(out, renew.Consul)
	}
	return out
}

func serverClient(name, header string, s config.Server) (*apiclient.Client, error) {
	return apiclient.New(name, s.Addr, header, s.TLS, serverTimeout)
}

// vaultOps is renew.VaultAPI on internal/issue.
type vaultOps struct {
	vault         *apiclient.Client
	nomad, consul *apiclient.Client // nil when not configured: policies are then not looked up
	cfg           *config.Config
}

func newVaultOps(cfg *config.Config) (*vaultOps, error) {
	v, err := serverClient("Vault", "X-Vault-Token", cfg.Vault)
	if err != nil {
		return nil, err
	}
	o := &vaultOps{vault: v, cfg: cfg}
	if cfg.Nomad.Addr != "" {
		if o.nomad, err = serverClient("Nomad", "X-Nomad-Token", cfg.Nomad); err != nil {
			return nil, err
		}
	}
	if cfg.Consul.Addr != "" {
		if o.consul, err = serverClient("Consul", "X-Consul-Token", cfg.Consul); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (o *vaultOps) RenewSelf(ctx context.Context, t *store.Token) (*store.Token, error) {
	nt, err := issue.Renew(ctx, o.vault.WithToken(t.Secret), 0, time.Now())
	if err != nil {
		return nil, err
	}
	cp := *t
	cp.ExpiresAt, cp.Renewable = nt.ExpiresAt, nt.Renewable
	if len(nt.Policies) > 0 {
		cp.Policies = nt.Policies
	}
	return &cp, nil
}

func (o *vaultOps) RenewLease(ctx context.Context, vault secret.String, t *store.Token) (*store.Token, error) {
	l, err := issue.RenewLease(ctx, o.vault.WithToken(vault), t.LeaseID, 0, time.Now())
	if err != nil {
		return nil, err
	}
	cp := *t
	cp.ExpiresAt, cp.Renewable = l.ExpiresAt, l.Renewable
	return &cp, nil
}

func (o *vaultOps) Mint(ctx context.Context, vault secret.String, k renew.Kind, profile string) (*store.Token, error) {
	c := o.vault.WithToken(vault)
	// Bound refuses these before; a token with no address to go to is
	// never minted.
	switch {
	case k == renew.Nomad && o.nomad == nil, k == renew.Consul && o.consul == nil:
		return nil, &renew.NotConfiguredError{Server: map[renew.Kind]string{renew.Nomad: "Nomad", renew.Consul: "Consul"}[k]}
	}
	switch k {
	case renew.Nomad:
		return issue.MintNomad(ctx, c, issue.Target{Mount: o.cfg.Nomad.Mount, Server: o.nomad}, profile, time.Now())
	case renew.Consul:
		return issue.MintConsul(ctx, c, issue.Target{Mount: o.cfg.Consul.Mount, Server: o.consul}, profile, time.Now())
	}
	return nil, fmt.Errorf("could not mint a %s token: not a Vault secrets engine", k)
}

func (o *vaultOps) RevokeLease(ctx context.Context, vault secret.String, leaseID string) error {
	return issue.RevokeLease(ctx, o.vault.WithToken(vault), leaseID)
}

func (o *vaultOps) RevokeSelf(ctx context.Context, vault secret.String) error {
	return issue.Revoke(ctx, o.vault.WithToken(vault))
}

func (o *vaultOps) Login(ctx context.Context, idToken secret.String, profile string) (*store.Token, error) {
	var required []string
	if p, ok := o.cfg.Profile(profile); ok {
		required = p.Roles
	}
	return issue.Login(ctx, o.vault, issue.LoginRequest{Mount: o.cfg.Vault.Mount, Role: profile, IDToken: idToken, RequiredRoles: required}, time.Now())
}

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
