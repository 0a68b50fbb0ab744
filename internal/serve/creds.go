package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/safehttp"
	"github.com/alisw/alilogin/internal/secret"
)

// LeasedToken is a Nomad or Consul management token read from Vault's
// nomad or consul secrets engine (e.g. nomad/creds/broker, a role of type
// management), so that the broker holds no long-lived secret of its own.
// It renews the lease at two thirds of its duration and reads a new token
// when renewal fails; Transport puts the current token on each request.
type LeasedToken struct {
	Vault  *apiclient.Client // with the broker's Vault token
	Path   string            // e.g. "nomad/creds/broker"
	Header string            // X-Nomad-Token or X-Consul-Token
	Log    *slog.Logger

	mu      sync.RWMutex
	token   secret.String
	leaseID string
	ttl     time.Duration
}

// Fetch reads a new token.
func (l *LeasedToken) Fetch(ctx context.Context) error {
	var out struct {
		LeaseID       string         `json:"lease_id"`
		LeaseDuration int            `json:"lease_duration"`
		Data          map[string]any `json:"data"`
	}
	if err := l.Vault.Do(ctx, http.MethodGet, "/v1/"+l.Path, nil, &out); err != nil {
		return fmt.Errorf("could not read a token from Vault at %s: %w", l.Path, err)
	}
	var tok string
	for _, k := range []string{"secret_id", "token"} {
		if s, ok := out.Data[k].(string); ok && s != "" {
			tok = s
			break
		}
	}
	if tok == "" {
		return fmt.Errorf("could not read a token from Vault at %s: no secret_id or token in the answer", l.Path)
	}
	l.mu.Lock()
	old := l.leaseID
	l.token, l.leaseID, l.ttl = secret.New(tok), out.LeaseID, time.Duration(out.LeaseDuration)*time.Second
	l.mu.Unlock()
	if old != "" {
		// The replaced token is revoked, not leaked, even when shutdown
		// began while the new one was read.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = l.revoke(rctx, old)
		cancel()
	}
	return nil
}

// LeaseID is the lease of the token now in use ("" before Fetch, or for a
// token read without a lease).
func (l *LeasedToken) LeaseID() string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.leaseID
}

// Renew renews the lease of the token now in use and returns its new
// duration. Like alilogin, it uses the path form
// (sys/leases/renew/<lease id>, issue.RenewLease): Vault's default policy
// is to deny lease_id in the body for the broker's engines
// (plan.DefaultPolicyLeaseDeny), and deploy/vault-broker-serve.hcl allows
// the path of serve's own leases only.
func (l *LeasedToken) Renew(ctx context.Context) (time.Duration, error) {
	now := time.Now()
	r, err := issue.RenewLease(ctx, l.Vault, l.LeaseID(), 0, now)
	if err != nil {
		return 0, err // "could not renew the lease: ...", naming the path
	}
	return r.ExpiresAt.Sub(now), nil
}

// Revoke revokes the lease of the token now in use.
func (l *LeasedToken) Revoke(ctx context.Context) error {
	return l.revoke(ctx, l.LeaseID())
}

// revoke revokes lease in the path form (sys/leases/revoke/<lease id>,
// issue.RevokeLease), which deploy/vault-broker-serve.hcl allows for
// serve's own leases only.
func (l *LeasedToken) revoke(ctx context.Context, lease string) error {
	return issue.RevokeLease(ctx, l.Vault, lease) // "could not revoke the lease: ..."
}

func (l *LeasedToken) log() *slog.Logger {
	if l.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Log
}

// Keep renews the lease until ctx is done, then revokes it. A token read
// without a lease has nothing to renew.
func (l *LeasedToken) Keep(ctx context.Context) {
	for {
		l.mu.RLock()
		ttl, lease := l.ttl, l.leaseID
		l.mu.RUnlock()
		if lease == "" {
			<-ctx.Done()
			return
		}
		wait := ttl * 2 / 3
		if wait <= 0 {
			wait = time.Minute
		}
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = l.revoke(rctx, lease)
			cancel()
			return
		case <-time.After(wait):
		}
		d, err := l.Renew(ctx)
		if err == nil && d >= ttl/2 {
			l.mu.Lock()
			l.ttl = d
			l.mu.Unlock()
			continue
		}
		// Renewal failed or the lease nears its max TTL: read a new token.
		if err := l.Fetch(ctx); err != nil && ctx.Err() == nil {
			l.log().Error("could not refresh the token from Vault", "path", l.Path, "err", err)
			l.mu.Lock()
			l.ttl = 30 * time.Second // retry soon
			l.mu.Unlock()
		}
	}
}

// Current returns the token now in use.
func (l *LeasedToken) Current() secret.String {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.token
}

// Transport wraps next (nil: safehttp.NewTransport(), HTTP/1.1 only) so
// that each request carries the current token.
func (l *LeasedToken) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = safehttp.NewTransport()
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		tok := l.Current()
		if tok.Empty() {
			return nil, errors.New("no token from Vault yet")
		}
		r = r.Clone(r.Context())
		r.Header.Set(l.Header, tok.Reveal())
		return next.RoundTrip(r)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
