package renew

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// relogin is step 4: the refresh grant, then the fresh login (the Login
// port) that replaces the record's Vault token, revokes it and mints
// again every Nomad/Consul token the record holds and children. What was
// minted is put in rec, what died with the old Vault token dropped; the
// mints' errors are returned apart.
func (c *Chain) relogin(ctx context.Context, rec *store.Record, res *Result, children []store.Kind) ([]error, error) {
	if c.Login == nil {
		return nil, ErrLoginNeeded
	}
	idToken, err := c.refresh(ctx, rec, res, nil)
	if err != nil {
		return nil, err
	}
	rep, errs, err := c.Login.FreshLogin(ctx, rec, idToken, withAllChildren(rec, children))
	if err != nil {
		return nil, err // as `alilogin login` says it: "could not log in to Vault: ...", or why Vault refused
	}
	for _, s := range rep.Steps {
		res.step("%s", s)
	}
	res.Warnings = append(res.Warnings, rep.Warnings...)
	return errs, nil
}

// refresh is the refresh grant of rec's login, at the issuer and client
// it was made with, for a verified ID token of the same identity: the
// rotated refresh token and the identity put in rec. A refresh for
// another identity ends the login (res.Drop, its Vault token revoked,
// unless vaultErr says Vault cannot be asked now).
func (c *Chain) refresh(ctx context.Context, rec *store.Record, res *Result, vaultErr error) (secret.String, error) {
	if c.SSO == nil || rec.RefreshToken.Empty() {
		return secret.String{}, ErrLoginNeeded
	}
	if rec.Issuer == "" || rec.ClientID == "" || rec.Issuer != c.Issuer || rec.ClientID != c.ClientID {
		return secret.String{}, &BindingError{Profile: rec.Profile, Issuer: rec.Issuer, ClientID: rec.ClientID, ConfiguredIssuer: c.Issuer, ConfiguredClientID: c.ClientID}
	}
	r, err := c.SSO.Refresh(ctx, rec.RefreshToken)
	if err != nil {
		if errors.Is(err, ErrLoginNeeded) {
			return secret.String{}, err
		}
		return secret.String{}, fmt.Errorf("could not refresh the SSO session: %w", err)
	}
	res.step("refreshed SSO session")
	if r.Issuer != rec.Issuer || r.Subject != rec.Subject || rec.Subject == "" {
		// Whatever the SSO meant, this is not the login that was made:
		// end it.
		res.Drop = true
		if rec.Vault.ValidFor(c.now(), 0) && vaultErr != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("the Vault token %s was not revoked: %v", termtext.Clean(rec.Vault.Accessor), vaultErr))
		} else if rec.Vault.ValidFor(c.now(), 0) {
			if err := c.Vault.RevokeSelf(ctx, rec.Vault.Secret); err != nil && !errors.Is(err, ErrDenied) {
				res.Warnings = append(res.Warnings, fmt.Sprintf("the Vault token %s was not revoked: %v", termtext.Clean(rec.Vault.Accessor), err))
			}
		}
		return secret.String{}, &IdentityChangedError{Profile: rec.Profile, Issuer: rec.Issuer, Subject: rec.Subject, GotIssuer: r.Issuer, GotSubject: r.Subject}
	}
	if !r.RefreshToken.Empty() {
		rec.RefreshToken = r.RefreshToken
	}
	if !r.IDTokenExp.IsZero() {
		rec.IDTokenExp = r.IDTokenExp
	}
	if r.User != "" {
		rec.User = r.User
	}
	if r.Roles != nil {
		rec.Roles = slices.Clone(r.Roles)
	}
	// The record, with its rotated refresh token, is stored by Ensure
	// whatever follows, under the lock.
	return r.IDToken, nil
}
