package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/oidc"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// A sign-in that a login could not turn into a stored login (the roles
// allow several profiles and there is no terminal to ask on, or Vault
// does not know the profile named) is kept as the store's pending sign-in
// (store.Pending), so that `alilogin login --profile P` right after
// needs no second browser sign-in. The next login takes it out of the
// store whatever it then does with it, and uses it only while it is
// younger than store.PendingMaxAge and was made with the configured
// issuer and client id; one it does not use has its refresh token
// revoked at the issuer that made it; one it uses in a login that fails
// (not stored, not kept again) is revoked by that login (cmd/alilogin
// runLogin). `logout --all` revokes it too.

// SignedIn is a verified SSO sign-in for a fresh login.
type SignedIn struct {
	*oidc.Result
	At     time.Time // when the user signed in (the browser or device flow)
	Reused bool      // it is the pending sign-in of an earlier login
}

// TakePending takes the pending sign-in out of the store and returns it
// when it can stand for a browser sign-in: younger than
// store.PendingMaxAge, made with cfg's issuer and client id, for the
// same subject, with an ID token that sso still verifies or a refresh
// token that sso still honours. nil: none to use (then the caller signs
// in as usual); a pending sign-in that is not used is revoked.
func TakePending(ctx context.Context, e Env, cfg *config.Config, st store.Store, sso *oidc.Client) *SignedIn {
	ps, ok := store.PendingOf(st)
	if !ok {
		return nil
	}
	p, err := ps.GetPending()
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		var ce *store.CorruptError
		if errors.As(err, &ce) {
			_ = ps.DeletePending()
		}
		fmt.Fprintf(e.stderr(), "alilogin: warning: could not read the sign-in kept by an earlier login (%v); signing in again\n", termtext.Clean(err.Error()))
		return nil
	}
	// Taken out before it is used: at most one login uses it, and none
	// when it cannot be removed.
	if err := ps.DeletePending(); err != nil {
		if !errors.Is(err, store.ErrNotFound) { // else another login took it meanwhile
			fmt.Fprintf(e.stderr(), "alilogin: warning: could not remove the sign-in kept by an earlier login (%v); signing in again\n", err)
		}
		return nil
	}
	age := e.now().Sub(p.SignedInAt)
	if age < 0 || age > store.PendingMaxAge || p.Issuer != cfg.Issuer || p.ClientID != cfg.ClientID {
		revokePending(ctx, cfg, sso, p)
		return nil
	}
	res := &oidc.Result{IDToken: p.IDToken, RefreshToken: p.RefreshToken}
	res.Identity, err = sso.Verify(ctx, p.IDToken.Reveal(), "")
	if err != nil {
		// Expired (SSOs give ID tokens of a few minutes): a new one
		// from the refresh token, at the issuer and client id it was
		// issued to (checked above).
		r, rerr := sso.Refresh(ctx, p.RefreshToken)
		if rerr != nil {
			if !errors.Is(rerr, oidc.ErrRefreshRefused) {
				revokePending(ctx, cfg, sso, p)
			}
			return nil
		}
		res = r
	}
	if res.Identity == nil || res.Identity.Subject != p.Subject {
		revokePending(ctx, cfg, sso, p)
		return nil
	}
	fmt.Fprintf(e.stderr(), "alilogin: using your sign-in of %s ago as %s, kept by the previous login (no browser needed)\n",
		age.Round(time.Second), termtext.Clean(res.Identity.User))
	return &SignedIn{Result: res, At: p.SignedInAt, Reused: true}
}

// KeepPending keeps s as the pending sign-in, for the next login, while
// it is younger than store.PendingMaxAge (an older one is revoked): it
// replaces (and revokes) any other. kept is false when it was not kept.
func KeepPending(ctx context.Context, e Env, cfg *config.Config, st store.Store, sso *oidc.Client, s *SignedIn) (kept bool) {
	p := &store.Pending{Issuer: s.Identity.Issuer, ClientID: cfg.ClientID, Subject: s.Identity.Subject, User: s.Identity.User,
		IDToken: s.IDToken, RefreshToken: s.RefreshToken, SignedInAt: s.At}
	ps, ok := store.PendingOf(st)
	if !ok || e.now().Sub(s.At) >= store.PendingMaxAge {
		revokePending(ctx, cfg, sso, p)
		return false
	}
	if old, err := ps.GetPending(); err == nil && !old.RefreshToken.Equal(p.RefreshToken) {
		revokePending(ctx, cfg, sso, old)
	}
	if err := ps.PutPending(p); err != nil {
		fmt.Fprintf(e.stderr(), "alilogin: warning: could not keep the sign-in for the next login: %v\n", err)
		revokePending(ctx, cfg, sso, p)
		return false
	}
	return true
}

// DropPending revokes and removes the pending sign-in, if any
// (`logout --all`); warnings say what could not be done.
func DropPending(ctx context.Context, e Env, cfg *config.Config, st store.Store) (found bool, warnings []string) {
	ps, ok := store.PendingOf(st)
	if !ok {
		return false, nil
	}
	p, err := ps.GetPending()
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		var ce *store.CorruptError
		if !errors.As(err, &ce) {
			return true, []string{fmt.Sprintf("could not read the sign-in kept by an earlier login: %v", err)}
		}
		warnings = append(warnings, "the sign-in kept by an earlier login is unreadable, so its refresh token could not be revoked; the SSO ends the session when it expires")
	default:
		if err := revokePendingErr(ctx, cfg, nil, p); err != nil && !errors.Is(err, oidc.ErrNoRevocation) {
			warnings = append(warnings, fmt.Sprintf("could not revoke the refresh token of the sign-in kept by an earlier login: %v", err))
		}
	}
	if err := ps.DeletePending(); err != nil && !errors.Is(err, store.ErrNotFound) {
		warnings = append(warnings, fmt.Sprintf("could not delete the sign-in kept by an earlier login: %v", err))
	}
	return true, warnings
}

// revokePending revokes p's refresh token, best effort (the SSO ends the
// session on its own).
func revokePending(ctx context.Context, cfg *config.Config, sso *oidc.Client, p *store.Pending) {
	_ = revokePendingErr(ctx, cfg, sso, p)
}

// revokePendingErr revokes p's refresh token at the issuer that made it
// with the client id it was issued to, whatever is configured now: sso
// when that is the one, else a client of p's issuer.
func revokePendingErr(ctx context.Context, cfg *config.Config, sso *oidc.Client, p *store.Pending) error {
	if p.RefreshToken.Empty() || p.Issuer == "" || p.ClientID == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if sso == nil || p.Issuer != cfg.Issuer || p.ClientID != cfg.ClientID {
		var err error
		if sso, err = oidc.New(ctx, oidc.Config{Issuer: p.Issuer, ClientID: p.ClientID, Scopes: cfg.Scopes, InsecureHTTP: cfg.InsecureHTTP}); err != nil {
			return err
		}
	}
	return sso.Revoke(ctx, p.RefreshToken)
}
