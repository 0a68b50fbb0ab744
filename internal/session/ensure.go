package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/oidc"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/store"
)

// EnsureOptions say which tokens Ensure brings to validity.
type EnsureOptions struct {
	Kinds   []store.Kind // empty: every kind the record holds
	MinTTL  time.Duration
	Verbose bool // say each step of the chain on stderr
	// CertFiles: the client certificate's files are brought up to date
	// and put in force in Session.Config even when nothing is renewed
	// (env, exec); after a renewal they always are (clientcert.go).
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
				return rec, kinds, s.useCert(ctx, rec) // clientcert.go
			}
			return rec, kinds, nil
		}
		checked = true
	}
	// The certificate's files in force for the chain's own calls to
	// Nomad and Consul (clientcert.go).
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
			Servers: servers, MinTTL: minTTL, Now: s.Env.now, Cert: certSigner(s.Env, cfg, cl), // clientcert.go
			Direct: directFor(s.Env, cfg, cl, s.Profile)}, // direct.go
		Store:   store.Authoritative(s.Store),
		LockDir: dir,
	}, nil
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
