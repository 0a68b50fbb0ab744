package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/oidc"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

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

func (e *chainError) Error() string   { return e.err.Error() }
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
