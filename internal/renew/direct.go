package renew

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// The direct login (issue 24): a profile whose Nomad and Consul have a
// JWT auth method gets their tokens there, with a fresh ID token from the
// refresh grant, when Vault cannot issue them (mode "fallback": Vault
// stopped, sealed or unreachable, or without the secrets engine) or
// always (mode "always"). Such a token has no lease: it is renewed by a
// new login. With Vault back, a "fallback" profile's next renewal uses
// Vault again.

// The modes of a profile's direct login.
const (
	DirectFallback = "fallback"
	DirectAlways   = "always"
)

// DirectLoginer is the direct login, a port (internal/session's).
type DirectLoginer interface {
	// DirectLogin logs in to the servers of kinds (Nomad, Consul) at
	// their JWT auth methods with the verified ID token, in parallel,
	// and puts each token it obtained in rec. It returns the steps and
	// warnings to report and the errors of the kinds it could not log
	// in to.
	DirectLogin(ctx context.Context, rec *store.Record, idToken secret.String, kinds []store.Kind) (report *Result, errs []error)
}

// Direct is a profile's direct login, as the chain needs it.
type Direct struct {
	Mode  string       // DirectFallback or DirectAlways; else none
	Kinds []store.Kind // the kinds whose server has the profile's auth method
	Login DirectLoginer
	// Vault says whether Vault can issue tokens (a short probe,
	// remembered); nil: it can.
	Vault *Availability
	// LogoutConsul logs the direct Consul token t out of the Consul at
	// addr, the one that issued it, when a token through Vault replaced
	// it; a warning when it could not. nil: it expires by itself.
	LogoutConsul func(ctx context.Context, addr string, t *store.Token) string
}

// logoutReplaced logs out the direct Consul token of rec that out no
// longer holds (a renewal through Vault replaced it), at the Consul that
// issued it, with a warning in res when it could not.
func (c *Chain) logoutReplaced(ctx context.Context, rec, out *store.Record, res *Result) {
	if c.Direct == nil || c.Direct.LogoutConsul == nil || out == nil || !rec.Consul.Direct() || !rec.Consul.ValidFor(c.now(), 0) {
		return
	}
	if out.Consul != nil && out.Consul.Secret.Equal(rec.Consul.Secret) {
		return
	}
	if w := c.Direct.LogoutConsul(ctx, rec.ConsulAddr, rec.Consul); w != "" {
		res.Warnings = append(res.Warnings, w)
	}
}

// asksVault reports whether a renewal in mode "always" still needs Vault:
// a kind without a direct login to renew, or a Vault token the refresh
// would revoke. Then Vault is asked briefly first (or its failure
// remembered), as in mode "fallback": a stopped Vault costs one short
// probe, not each call a client timeout.
func (c *Chain) asksVault(out *store.Record, kinds []store.Kind) bool {
	if out.Vault != nil {
		return true
	}
	direct := c.Direct.Route(kinds, nil)
	for _, k := range kinds {
		if !slices.Contains(direct, k) && !out.Token(k).ValidFor(c.now(), c.minTTL()) {
			return true
		}
	}
	return false
}

// on reports whether the profile logs in directly at all.
func (d *Direct) on() bool {
	return d != nil && d.Login != nil && len(d.Kinds) > 0 && (d.Mode == DirectFallback || d.Mode == DirectAlways)
}

// Route is the decision: of kinds, those that come from the direct login,
// given whether Vault can issue tokens (vaultErr nil) or not: with mode
// "always" every kind that has an auth method, with "fallback" those
// when Vault cannot, else none. Only Nomad and Consul ever do.
func (d *Direct) Route(kinds []store.Kind, vaultErr error) []store.Kind {
	if !d.on() || (d.Mode == DirectFallback && vaultErr == nil) {
		return nil
	}
	var out []store.Kind
	for _, k := range kinds {
		if (k == store.Nomad || k == store.Consul) && slices.Contains(d.Kinds, k) && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// VaultUnavailableError: a token only Vault issues was asked for while
// Vault cannot issue tokens. It wraps the *DownError.
type VaultUnavailableError struct {
	Kind store.Kind
	Err  error
}

func (e *VaultUnavailableError) Error() string {
	if e.Kind == store.Vault {
		return fmt.Sprintf("could not renew the Vault token: %v", e.Err)
	}
	return fmt.Sprintf("could not get a %s token: it has no direct login and %v", e.Kind.Title(), e.Err)
}

func (e *VaultUnavailableError) Unwrap() error { return e.Err }

// runDirect brings the tokens of kinds to the margin when some come from
// the direct login (direct, decided by Route): the others through Vault
// (runVault) unless vaultErr says it cannot issue them, then the direct
// ones with a fresh ID token from the refresh grant.
func (c *Chain) runDirect(ctx context.Context, out *store.Record, res *Result, kinds, direct []store.Kind, vaultErr error) ([]error, error) {
	var rest []store.Kind
	for _, k := range kinds {
		if !slices.Contains(direct, k) {
			rest = append(rest, k)
		}
	}
	var errs []error
	if len(rest) > 0 && !c.Fresh(out, rest) {
		if vaultErr == nil {
			e, err := c.runVault(ctx, out, res, rest)
			if err != nil {
				return nil, err
			}
			errs = e
		} else {
			for _, k := range rest {
				if !out.Token(k).ValidFor(c.now(), c.minTTL()) {
					errs = append(errs, &VaultUnavailableError{Kind: k, Err: vaultErr})
				}
			}
		}
	}
	if vaultErr != nil && out.Vault != nil && !out.Vault.ValidFor(c.now(), 0) {
		out.Vault = nil // expired while Vault is down: the record holds the direct tokens
		res.Changed = true
	}
	var need []store.Kind
	for _, k := range direct {
		if !out.Token(k).ValidFor(c.now(), c.minTTL()) {
			need = append(need, k)
		}
	}
	if len(need) == 0 {
		return errs, nil
	}
	idToken, err := c.refresh(ctx, out, res, vaultErr)
	if err != nil {
		return nil, err
	}
	rep, derrs := c.Direct.Login.DirectLogin(ctx, out, idToken, need)
	for _, s := range rep.Steps {
		res.step("%s", s)
	}
	res.Warnings = append(res.Warnings, rep.Warnings...)
	return append(errs, derrs...), nil
}

// noEngineKinds are the kinds whose errors say Vault has no secrets
// engine for them (*NoEngineError), and the other errors.
func noEngineKinds(errs []error) (kinds []store.Kind, others []error) {
	for _, err := range errs {
		var ne *NoEngineError
		if errors.As(err, &ne) {
			kinds = append(kinds, ne.Kind)
		} else {
			others = append(others, err)
		}
	}
	return kinds, others
}

// ErrNoEngine: Vault has no secrets engine at the kind's mount; the
// VaultAPI adapter's Mint error matches it.
var ErrNoEngine = errors.New("Vault has no secrets engine at the mount")

// NoEngineError is a mint that found no secrets engine, for its kind.
type NoEngineError struct {
	Kind store.Kind
	Err  error
}

func (e *NoEngineError) Error() string { return e.Err.Error() }
func (e *NoEngineError) Unwrap() error { return e.Err }
