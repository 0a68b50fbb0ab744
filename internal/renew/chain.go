package renew

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// DefaultMinTTL is the margin before expiry under which a token is renewed.
const DefaultMinTTL = 5 * time.Minute

// ErrLoginNeeded means no step of the chain can produce the token without a
// new interactive login.
var ErrLoginNeeded = errors.New("a new login is needed")

// VaultAPI is what the chain needs of Vault. Errors should be
// *apiclient.Error where a server answered or was unreachable.
type VaultAPI interface {
	// RenewSelf renews the Vault token (auth/token/renew-self) and
	// returns it with its new expiry.
	RenewSelf(ctx context.Context, tok *store.Token) (*store.Token, error)
	// RenewLease renews the Vault lease behind a Nomad or Consul token
	// (sys/leases/renew/<lease id>) with the Vault token and returns the
	// token with its new expiry.
	RenewLease(ctx context.Context, vault secret.String, tok *store.Token) (*store.Token, error)
	// Mint reads <kind mount>/creds/<profile> with the Vault token.
	Mint(ctx context.Context, vault secret.String, kind store.Kind, profile string) (*store.Token, error)
	// RevokeLease revokes a lease (sys/leases/revoke).
	RevokeLease(ctx context.Context, vault secret.String, leaseID string) error
	// RevokeSelf revokes the Vault token and with it every lease it made.
	RevokeSelf(ctx context.Context, vault secret.String) error
	// Login logs in to Vault's JWT auth method with role = profile;
	// roles (the user's SSO roles, may be nil) are for the message when
	// Vault refuses.
	Login(ctx context.Context, idToken secret.String, profile string, roles []string) (*store.Token, error)
}

// SSO is the OIDC provider's refresh grant.
type SSO interface {
	// Refresh runs the refresh grant and returns a verified ID token. An
	// error that wraps ErrLoginNeeded means the provider refused the
	// refresh token (expired, revoked); other errors are failures to ask.
	Refresh(ctx context.Context, refreshToken secret.String) (*Refreshed, error)
}

// Refreshed is the outcome of a refresh grant.
type Refreshed struct {
	IDToken      secret.String // verified
	IDTokenExp   time.Time
	RefreshToken secret.String // the rotated one; empty when not rotated
	Issuer       string        // the verified ID token's iss
	Subject      string        // and its sub
	User         string        // from the verified claims; empty: unchanged
	Roles        []string      // likewise
}

// BindingError: the stored login was made with another issuer or OIDC
// client than the one configured now, or does not say which (a record of
// an earlier alilogin). Its refresh token goes only to the token endpoint
// of the issuer and client id it was issued by, so it is not used: a new
// login is needed. It wraps ErrLoginNeeded.
type BindingError struct {
	Profile          string
	Issuer, ClientID string // the stored login's
	// What the configuration says now.
	ConfiguredIssuer, ConfiguredClientID string
}

func (e *BindingError) Error() string {
	switch {
	case e.Issuer == "" || e.ClientID == "":
		return fmt.Sprintf("the stored login of profile %s does not say which SSO issuer and client id it was made with (an earlier alilogin wrote it), so its refresh token is not sent anywhere", e.Profile)
	case e.Issuer != e.ConfiguredIssuer:
		return fmt.Sprintf("the stored login of profile %s was made with the SSO issuer %s, but the configured issuer is %s; its refresh token goes only to the issuer that made it",
			e.Profile, termtext.Clean(e.Issuer), termtext.Clean(e.ConfiguredIssuer))
	default:
		return fmt.Sprintf("the stored login of profile %s was made with the OIDC client id %s at %s, but the configured client id is %s; its refresh token goes only to the client it was issued to",
			e.Profile, termtext.Clean(e.ClientID), termtext.Clean(e.Issuer), termtext.Clean(e.ConfiguredClientID))
	}
}

func (e *BindingError) Unwrap() error { return ErrLoginNeeded }

// IdentityChangedError: a refresh grant gave an ID token for another
// issuer or subject than the stored login's. The record is dropped (its
// Vault token revoked) and a new login is needed. It wraps
// ErrLoginNeeded.
type IdentityChangedError struct {
	Profile               string
	Issuer, Subject       string // the stored login's
	GotIssuer, GotSubject string // the refreshed ID token's
}

func (e *IdentityChangedError) Error() string {
	return fmt.Sprintf("the SSO refreshed the login of profile %s for another identity (issuer %s, subject %s; the login was made for issuer %s, subject %s), so the stored login was removed",
		e.Profile, termtext.Clean(e.GotIssuer), termtext.Clean(e.GotSubject), termtext.Clean(e.Issuer), termtext.Clean(e.Subject))
}

func (e *IdentityChangedError) Unwrap() error { return ErrLoginNeeded }

// Chain runs the renewal chain on a record. It holds no state between
// calls; Ensure adds the lock and the store around it.
type Chain struct {
	Vault VaultAPI
	SSO   SSO // nil: step 4 is not available
	// Issuer and ClientID are what SSO refreshes at (the configured
	// ones). Step 4 runs only for a record made with both (BindingError).
	Issuer, ClientID string
	// Servers are the configured servers: the chain runs only for a
	// record made with them (Bound), and sends the record's tokens and a
	// refreshed ID token nowhere else.
	Servers Servers
	// MinTTL is the margin: a token valid for less is renewed.
	MinTTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Cert re-signs a record's client certificate; nil: certificates are
	// left as they are (clientcert.go).
	Cert CertSigner
}

// Result says what a run of the chain did.
type Result struct {
	Steps    []string // e.g. "renewed nomad lease"; empty when the cache was used
	Warnings []string // what could not be cleaned up (a lease not revoked)
	Changed  bool     // the record differs and must be stored
	// Drop: the record must be deleted, not stored (IdentityChangedError).
	Drop bool
}

func (r *Result) step(format string, args ...any) {
	r.Steps = append(r.Steps, fmt.Sprintf(format, args...))
	r.Changed = true
}

func (c *Chain) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Chain) minTTL() time.Duration {
	if c.MinTTL < 0 {
		return 0
	}
	return c.MinTTL
}

// Fresh reports whether every token of kinds is in rec and valid for
// longer than the margin: step 1, which needs no network.
func (c *Chain) Fresh(rec *store.Record, kinds []store.Kind) bool {
	if rec == nil {
		return false
	}
	now, m := c.now(), c.minTTL()
	for _, k := range kinds {
		if !rec.Token(k).ValidFor(now, m) {
			return false
		}
	}
	return c.certFresh(rec) // clientcert.go
}

// canRenew reports whether renewing t can make it valid for the margin.
func (c *Chain) canRenew(t *store.Token, now time.Time) bool {
	if t == nil || !t.Renewable || !t.ValidFor(now, 0) {
		return false
	}
	return t.MaxExpiresAt.IsZero() || t.MaxExpiresAt.Sub(now) > c.minTTL()
}

// Run brings the tokens of kinds in rec to validity for longer than the
// margin, through steps 2-4. It returns the updated record (a copy; rec is
// not changed), even with an error, so that what was obtained, such as a
// rotated refresh token, is stored. A token that was just issued is
// accepted even when its whole TTL is shorter than the margin. A record
// not made with the configured servers (Bound) gives a nil record and a
// *ServerBindingError, with nothing sent.
func (c *Chain) Run(ctx context.Context, rec *store.Record, kinds []store.Kind) (*store.Record, *Result, error) {
	res := &Result{}
	if rec == nil {
		return nil, res, ErrLoginNeeded
	}
	// Renewals, re-mints (whose new Nomad/Consul tokens are looked up at
	// Nomad/Consul) and step 4 may touch every token the record holds.
	if err := c.Bound(rec, withAllChildren(rec, kinds)); err != nil {
		return nil, res, err
	}
	out := copyRecord(rec)
	if c.Fresh(out, kinds) {
		return out, res, nil
	}
	now := c.now()
	var children []store.Kind
	for _, k := range kinds {
		if k != store.Vault && !slices.Contains(children, k) && !out.Token(k).ValidFor(now, c.minTTL()) {
			children = append(children, k)
		}
	}

	// The Vault token backs everything else: a lease renewed or minted
	// with it dies with it. Bring it to the margin first. A new login
	// (step 4) mints every Nomad/Consul token again.
	if !out.Vault.ValidFor(now, c.minTTL()) {
		renewed := false
		if c.canRenew(out.Vault, now) {
			t, err := c.Vault.RenewSelf(ctx, out.Vault)
			switch {
			case err == nil:
				out.Vault = t
				res.step("renewed vault token")
				renewed = t.ValidFor(c.now(), c.minTTL())
			case apiclient.Unreachable(err) || ctx.Err() != nil:
				return out, res, err // the adapter's "could not renew the Vault token: ..."
			}
			// Refused (revoked, past its max TTL): log in again below.
		}
		if !renewed {
			errs, err := c.relogin(ctx, out, res, children)
			if err != nil {
				return out, res, err
			}
			return c.done(out, res, errs)
		}
	}
	// The certificate first (clientcert.go): the re-mints' calls to
	// Nomad and Consul present it.
	certErr := c.runCert(ctx, out, res)
	errs := c.runChildren(ctx, out, res, children)
	if (len(errs) > 0 || certErr != nil) && anyStatus(append(errs, certErr), 403) && c.vaultRefused(ctx, out) {
		// The Vault token was revoked at the server before its expiry
		// (by an admin, or a logout elsewhere): log in again, once; the
		// fresh login signs the certificate again (reloginCert).
		var err error
		if errs, err = c.relogin(ctx, out, res, children); err != nil {
			return out, res, err
		}
		return c.done(out, res, errs)
	}
	if certErr != nil {
		errs = append(errs, certErr)
	}
	return c.done(out, res, errs)
}

func (c *Chain) done(out *store.Record, res *Result, errs []error) (*store.Record, *Result, error) {
	if res.Changed {
		out.UpdatedAt = c.now()
	}
	return out, res, errors.Join(errs...)
}

// withAllChildren adds every Nomad/Consul token of rec to children: after a
// new Vault login, the old Vault token's leases are gone (expired or
// revoked with it), so they must all be minted again.
func withAllChildren(rec *store.Record, children []store.Kind) []store.Kind {
	for _, k := range []store.Kind{store.Nomad, store.Consul} {
		if rec.Token(k) != nil && !slices.Contains(children, k) {
			children = append(children, k)
		}
	}
	return children
}

// anyStatus reports whether one of errs is an HTTP status from a server.
func anyStatus(errs []error, status int) bool {
	for _, err := range errs {
		if apiclient.StatusOf(err) == status {
			return true
		}
	}
	return false
}

// vaultRefused reports whether Vault refuses the stored Vault token.
func (c *Chain) vaultRefused(ctx context.Context, rec *store.Record) bool {
	_, err := c.Vault.RenewSelf(ctx, rec.Vault)
	return apiclient.StatusOf(err) == 403
}

// runChildren runs steps 2 and 3 for Nomad and Consul, in parallel, and
// puts the results in rec.
func (c *Chain) runChildren(ctx context.Context, rec *store.Record, res *Result, children []store.Kind) []error {
	type outcome struct {
		tok      *store.Token
		steps    []string
		warnings []string
		err      error
	}
	outs := make([]outcome, len(children))
	var wg sync.WaitGroup
	for i, k := range children {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := &outs[i]
			o.tok, o.steps, o.warnings, o.err = c.child(ctx, rec, k)
		}()
	}
	wg.Wait()
	var errs []error
	for i, k := range children {
		o := outs[i]
		for _, s := range o.steps {
			res.step("%s", s)
		}
		res.Warnings = append(res.Warnings, o.warnings...)
		if o.tok != nil {
			rec.SetToken(k, o.tok)
			res.Changed = true
		}
		if o.err != nil {
			errs = append(errs, o.err)
		}
	}
	return errs
}

// child runs steps 2 and 3 for one Nomad or Consul token.
func (c *Chain) child(ctx context.Context, rec *store.Record, k store.Kind) (tok *store.Token, steps, warnings []string, err error) {
	old := rec.Token(k)
	vault := rec.Vault.Secret
	now := c.now()
	if old != nil && old.LeaseID != "" && c.canRenew(old, now) {
		t, err := c.Vault.RenewLease(ctx, vault, old)
		if err == nil {
			t = t.CappedBy(rec.Vault)
			steps = append(steps, fmt.Sprintf("renewed %s lease", k))
			if t.ValidFor(c.now(), c.minTTL()) {
				return t, steps, nil, nil
			}
			old = t // renewed to its max: replace it below
		} else if apiclient.Unreachable(err) || ctx.Err() != nil {
			return nil, steps, nil, fmt.Errorf("%s: %w", k, err) // the adapter's "could not renew the lease: ..."
		}
	}
	t, err := c.Vault.Mint(ctx, vault, k, rec.Profile)
	if err != nil {
		return nil, steps, nil, err // the adapter's "could not get a Nomad token: ...", as login says it
	}
	steps = append(steps, fmt.Sprintf("minted %s token", k))
	t = t.CappedBy(rec.Vault)
	if len(t.Policies) == 0 && old != nil {
		t.Policies = slices.Clone(old.Policies) // same role, same policies
	}
	if old != nil && old.LeaseID != "" && old.ValidFor(c.now(), 0) {
		if err := c.Vault.RevokeLease(ctx, vault, old.LeaseID); err != nil {
			warnings = append(warnings, fmt.Sprintf("the replaced %s token's lease %s was not revoked: %v", k, termtext.Clean(old.LeaseID), err))
		} else {
			steps = append(steps, fmt.Sprintf("revoked replaced %s lease", k))
		}
	}
	return t, steps, warnings, nil
}

// relogin is step 4: the refresh grant, then a fresh login (Login) that
// replaces the record's Vault token, revokes it and mints again every
// Nomad/Consul token the record holds and children. What was minted is
// put in rec, what died with the old Vault token dropped; the mints'
// errors are returned apart.
func (c *Chain) relogin(ctx context.Context, rec *store.Record, res *Result, children []store.Kind) ([]error, error) {
	if c.SSO == nil || rec.RefreshToken.Empty() {
		return nil, ErrLoginNeeded
	}
	if rec.Issuer == "" || rec.ClientID == "" || rec.Issuer != c.Issuer || rec.ClientID != c.ClientID {
		return nil, &BindingError{Profile: rec.Profile, Issuer: rec.Issuer, ClientID: rec.ClientID, ConfiguredIssuer: c.Issuer, ConfiguredClientID: c.ClientID}
	}
	r, err := c.SSO.Refresh(ctx, rec.RefreshToken)
	if err != nil {
		if errors.Is(err, ErrLoginNeeded) {
			return nil, err
		}
		return nil, fmt.Errorf("could not refresh the SSO session: %w", err)
	}
	res.step("refreshed SSO session")
	if r.Issuer != rec.Issuer || r.Subject != rec.Subject || rec.Subject == "" {
		// Whatever the SSO meant, this is not the login that was made:
		// end it.
		res.Drop = true
		if rec.Vault.ValidFor(c.now(), 0) {
			if err := c.Vault.RevokeSelf(ctx, rec.Vault.Secret); err != nil && apiclient.StatusOf(err) != 403 {
				res.Warnings = append(res.Warnings, fmt.Sprintf("the Vault token %s was not revoked: %v", termtext.Clean(rec.Vault.Accessor), err))
			}
		}
		return nil, &IdentityChangedError{Profile: rec.Profile, Issuer: rec.Issuer, Subject: rec.Subject, GotIssuer: r.Issuer, GotSubject: r.Subject}
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
	// whatever follows, under the lock: its Vault token is replaced
	// for certain.
	var certErr error
	lo, err := Login(ctx, c.Vault, c.now, FreshLogin{Profile: rec.Profile, IDToken: r.IDToken, Roles: rec.Roles,
		Kinds: withAllChildren(rec, children), Replaced: rec.Vault,
		// The certificate with the new Vault token, before the mints
		// (clientcert.go).
		BeforeMint: func(ctx context.Context, vt *store.Token) ([]string, []string) {
			oldVault := rec.Vault
			rec.Vault = vt
			cr := &Result{}
			certErr = c.reloginCert(ctx, rec, cr)
			rec.Vault = oldVault
			return cr.Steps, cr.Warnings
		}})
	if err != nil {
		return nil, err // as `alilogin login` says it: "could not log in to Vault: ...", or why Vault refused
	}
	for _, s := range lo.Steps {
		res.step("%s", s)
	}
	res.Warnings = append(res.Warnings, lo.Warnings...)
	rec.Vault = lo.Vault
	var errs []error
	for _, m := range lo.Minted {
		t := m.Token
		if m.Err != nil {
			// Whatever was there died with the old Vault token.
			t = nil
			errs = append(errs, m.Err) // as `alilogin login` says it
		} else if old := rec.Token(m.Kind); len(t.Policies) == 0 && old != nil {
			t.Policies = slices.Clone(old.Policies) // same role, same policies
		}
		rec.SetToken(m.Kind, t)
	}
	if certErr != nil {
		errs = append(errs, certErr)
	}
	return errs, nil
}

func copyToken(t *store.Token) *store.Token {
	if t == nil {
		return nil
	}
	cp := *t
	cp.Policies = slices.Clone(t.Policies)
	return &cp
}

func copyRecord(r *store.Record) *store.Record {
	cp := *r
	cp.Roles = slices.Clone(r.Roles)
	cp.Vault = copyToken(r.Vault)
	cp.Nomad = copyToken(r.Nomad)
	cp.Consul = copyToken(r.Consul)
	cp.CertDirs = slices.Clone(r.CertDirs)
	return &cp
}
