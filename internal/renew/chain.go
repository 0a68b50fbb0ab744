package renew

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// The renewal chain is one mechanism, read in this file top to bottom:
// the chain on a record (Fresh and Bound, step 1; Run, the Vault token's
// step; relogin and refresh, step 4, whose fresh login is the port
// Loginer), then the Ensurer that runs it under the profile's lock
// (internal/store's lock.go) with the store around it. Steps 2-3 for the
// Nomad and Consul tokens and the certificate: remint.go; the direct
// login: direct.go; the ports: ports.go.

// DefaultMinTTL is the margin before expiry under which a token is renewed.
const DefaultMinTTL = 5 * time.Minute

// Chain runs the renewal chain on a record. It holds no state between
// calls; Ensure adds the lock and the store around it.
type Chain struct {
	Vault VaultAPI
	SSO   SSO // nil: step 4 is not available
	// Login is step 4's fresh login; nil: step 4 is not available.
	Login Loginer
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
	// left as they are (remint.go).
	Cert CertSigner
	// Direct is the profile's direct login at Nomad and Consul
	// (direct.go); nil: none.
	Direct *Direct
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
	return c.certFresh(rec)
}

// certFresh: a record's client certificate, when it has one and the chain
// can sign, is fresh for the margin (the --min-ttl rule of the tokens,
// clientcert.Cert.Fresh: a certificate whose whole life is shorter than
// the margin is fresh for half of it).
func (c *Chain) certFresh(rec *store.Record) bool {
	return c.Cert == nil || rec.ClientCert == nil || rec.ClientCert.Fresh(c.now(), c.minTTL())
}

// Bound reports whether rec was made with the configured servers, for
// the Vault token and the tokens of kinds, each checked the way the
// login checked it (Servers' trust, when the record has one): a
// *ServerBindingError when not. It is a few string comparisons: no
// network, no system call. Token,
// env and exec call it before they print or export anything (step 1
// included), and Run before it sends anything.
func (c *Chain) Bound(rec *store.Record, kinds []store.Kind) error {
	if rec == nil {
		return nil
	}
	if rec.VaultAddr == "" {
		return &ServerBindingError{Profile: rec.Profile, Server: store.Vault, Configured: c.Servers.Vault, Unrecorded: true}
	}
	if rec.VaultAddr != c.Servers.Vault {
		return &ServerBindingError{Profile: rec.Profile, Server: store.Vault, Recorded: rec.VaultAddr, Configured: c.Servers.Vault}
	}
	if slices.Contains(kinds, store.Nomad) && rec.NomadAddr != c.Servers.Nomad {
		return &ServerBindingError{Profile: rec.Profile, Server: store.Nomad, Recorded: rec.NomadAddr, Configured: c.Servers.Nomad}
	}
	if slices.Contains(kinds, store.Consul) && rec.ConsulAddr != c.Servers.Consul {
		return &ServerBindingError{Profile: rec.Profile, Server: store.Consul, Recorded: rec.ConsulAddr, Configured: c.Servers.Consul}
	}
	// How each server is checked, when the record says (a record of an
	// earlier alilogin does not: accepted as before).
	for _, t := range []struct {
		server             store.Kind
		used               bool
		recorded, configed string
	}{
		{store.Vault, true, rec.VaultTrust, c.Servers.VaultTrust},
		{store.Nomad, slices.Contains(kinds, store.Nomad), rec.NomadTrust, c.Servers.NomadTrust},
		{store.Consul, slices.Contains(kinds, store.Consul), rec.ConsulTrust, c.Servers.ConsulTrust},
	} {
		if t.used && t.recorded != "" && t.recorded != t.configed {
			return &ServerBindingError{Profile: rec.Profile, Server: t.server, Recorded: t.recorded, Configured: t.configed, Trust: true}
		}
	}
	// A Nomad or Consul token with no configured address would go to the
	// CLI's default (http://127.0.0.1:4646, :8500), in clear, to whoever
	// listens there: none is minted nor handed out.
	if slices.Contains(kinds, store.Nomad) && c.Servers.Nomad == "" {
		return &NotConfiguredError{Server: store.Nomad}
	}
	if slices.Contains(kinds, store.Consul) && c.Servers.Consul == "" {
		return &NotConfiguredError{Server: store.Consul}
	}
	return nil
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
	out := rec.Clone()
	if c.Fresh(out, kinds) {
		return out, res, nil
	}
	if c.Direct != nil && c.Direct.on() { // (a profile without a direct login never enters direct.go)
		// Whether Vault can issue tokens, asked briefly (or remembered)
		// before anything is sent to it (direct.go).
		var vaultErr error
		if c.Direct.Mode == DirectFallback || c.asksVault(out, kinds) {
			vaultErr = c.Direct.Vault.Check(ctx)
		}
		if direct := c.Direct.Route(kinds, vaultErr); len(direct) > 0 || vaultErr != nil {
			errs, err := c.runDirect(ctx, out, res, kinds, direct, vaultErr)
			if err != nil {
				return out, res, err
			}
			return c.done(out, res, errs)
		}
	}
	errs, err := c.runVault(ctx, out, res, kinds)
	if c.Direct != nil {
		c.logoutReplaced(ctx, rec, out, res) // a direct Consul token Vault's replaced
	}
	if err != nil {
		return out, res, err
	}
	if c.Direct == nil {
		return c.done(out, res, errs)
	}
	if ne, others := noEngineKinds(errs); len(ne) > 0 && len(c.Direct.Route(ne, ErrNoEngine)) > 0 {
		// Vault has no engine for them (OpenBao): the direct login
		// stands in.
		derrs, err := c.runDirect(ctx, out, res, ne, c.Direct.Route(ne, ErrNoEngine), nil)
		if err != nil {
			return out, res, err
		}
		errs = append(others, derrs...)
	}
	return c.done(out, res, errs)
}

// runVault is steps 2-4 through Vault for the tokens of kinds in out:
// the errors of what could not be had (mints, the certificate), or err
// when nothing more can be done.
func (c *Chain) runVault(ctx context.Context, out *store.Record, res *Result, kinds []store.Kind) (errs []error, err error) {
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
			case errors.Is(err, ErrUnreachable) || ctx.Err() != nil:
				return nil, err // the adapter's "could not renew the Vault token: ..."
			}
			// Refused (revoked, past its max TTL): log in again below.
		}
		if !renewed {
			return c.relogin(ctx, out, res, children)
		}
	}
	// The certificate first (remint.go): the re-mints' calls to
	// Nomad and Consul present it.
	certErr := c.runCert(ctx, out, res)
	errs = c.runChildren(ctx, out, res, children)
	if (len(errs) > 0 || certErr != nil) && anyDenied(append(errs, certErr)) && c.vaultRefused(ctx, out) {
		// The Vault token was revoked at the server before its expiry
		// (by an admin, or a logout elsewhere): log in again, once; the
		// fresh login signs the certificate again (reloginCert).
		return c.relogin(ctx, out, res, children)
	}
	if certErr != nil {
		errs = append(errs, certErr)
	}
	return errs, nil
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

// Step 4: the refresh grant and the fresh login.

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

// The chain under the profile's lock, with the store around it.

// Store is what Ensure needs of the record store.
type Store interface {
	Get(profile string) (*store.Record, error)
	Put(r *store.Record) error
	Delete(profile string) error
}

// Ensurer runs the chain for one profile under its file lock.
type Ensurer struct {
	Chain    *Chain
	Store    Store
	LockDir  string
	LockWait time.Duration // 0: store.DefaultLockWait
}

// ErrReplaced: the stored login was replaced (a new login) while this
// process renewed it; what it obtained was revoked. Running the command
// again uses the new login.
var ErrReplaced = errors.New("the stored login was replaced while it was being renewed; run the command again")

// Ensure returns the profile's record with the tokens of kinds valid for
// longer than the margin. On the fast path (step 1) it reads the store once
// and makes no network call and takes no lock. Otherwise it takes the
// profile's lock, re-reads the store (another process may have renewed
// while this one waited), runs the chain and stores the result before
// letting go. A missing record is ErrLoginNeeded wrapped with
// store.ErrNotFound.
//
// Logout and login take the same lock and never write without it, so the
// record cannot change while the chain runs; but a writer that did not
// take the lock (an older alilogin) may have changed it anyway. Before
// and after storing, Ensure reads the record once more: when it was
// deleted or replaced meanwhile, what the chain minted is revoked and not
// kept.
func (e *Ensurer) Ensure(ctx context.Context, profile string, kinds []store.Kind) (*store.Record, *Result, error) {
	rec, err := e.Store.Get(profile)
	if err != nil {
		return nil, &Result{}, getErr(err)
	}
	if err := e.Chain.Bound(rec, kinds); err != nil {
		return nil, &Result{}, err
	}
	if e.Chain.Fresh(rec, kinds) {
		return rec, &Result{}, nil
	}
	return e.Renew(ctx, profile, kinds)
}

// Renew is Ensure after its step 1, for a caller that has just read the
// record itself and found it bound to the configured servers but not
// fresh: it takes the lock at once, without reading the store before
// (one Secret Service call less), then goes on as Ensure does.
func (e *Ensurer) Renew(ctx context.Context, profile string, kinds []store.Kind) (*store.Record, *Result, error) {
	lk, err := store.AcquireLock(ctx, e.LockDir, profile, e.LockWait)
	if err != nil {
		return nil, &Result{}, err
	}
	defer lk.Release()
	rec, err := e.Store.Get(profile)
	if err != nil {
		return nil, &Result{}, getErr(err)
	}
	out, res, err := e.Chain.Run(ctx, rec, kinds)
	if res.Drop {
		if derr := e.Store.Delete(profile); derr != nil && !errors.Is(derr, store.ErrNotFound) {
			return nil, res, errors.Join(err, fmt.Errorf("could not delete the stored login: %w", derr))
		}
		return nil, res, err
	}
	if !res.Changed {
		return out, res, err
	}
	if done, r, derr := e.changedMeanwhile(ctx, profile, rec, out, rec, kinds, res); done {
		return r, res, derr
	}
	if perr := e.Store.Put(out); perr != nil {
		return out, res, errors.Join(err, fmt.Errorf("could not store the renewed tokens: %w", perr))
	}
	// A lockless writer (an older alilogin) that read the record before
	// the Put and deletes or replaces it after would leave what the chain
	// minted alive and held by nobody: read once more, and when the record
	// is no longer the one just stored, revoke what was minted. A delete
	// between the check above and
	// the Put cannot be seen from here; that is why logout never runs
	// without the lock.
	if done, r, derr := e.changedMeanwhile(ctx, profile, rec, out, out, kinds, res); done {
		return r, res, derr
	}
	return out, res, err
}

// changedMeanwhile reads the stored login again and, when it was deleted
// or is no longer want, discards what the chain obtained for rec (out)
// and says what Ensure returns instead (done): a login written meanwhile
// by another process when it is fresh and bound to the configured
// servers, else an error.
func (e *Ensurer) changedMeanwhile(ctx context.Context, profile string, rec, out, want *store.Record, kinds []store.Kind, res *Result) (done bool, r *store.Record, err error) {
	cur, gerr := e.Store.Get(profile)
	switch {
	case errors.Is(gerr, store.ErrNotFound):
		e.discard(ctx, rec, out, res)
		return true, nil, fmt.Errorf("%w: the stored login was deleted while it was being renewed", ErrLoginNeeded)
	case gerr == nil && !sameLogin(cur, want):
		e.discard(ctx, rec, out, res)
		if e.Chain.Fresh(cur, kinds) {
			// Written without the lock, it was never checked: bound
			// to the configured servers, or not handed out.
			if berr := e.Chain.Bound(cur, kinds); berr != nil {
				return true, nil, berr
			}
			return true, cur, nil
		}
		return true, nil, ErrReplaced
	}
	return false, nil, nil
}

// sameLogin reports whether b is still the record a was read as: no
// write came between.
func sameLogin(a, b *store.Record) bool {
	sec := func(t *store.Token) secret.String {
		if t == nil {
			return secret.String{}
		}
		return t.Secret
	}
	return a.UpdatedAt.Equal(b.UpdatedAt) && a.RefreshToken.Equal(b.RefreshToken) &&
		sec(a.Vault).Equal(sec(b.Vault)) && sec(a.Nomad).Equal(sec(b.Nomad)) && sec(a.Consul).Equal(sec(b.Consul))
}

// discard revokes what the chain obtained in out that was not in rec: a
// new client certificate, a new Vault token (and with it every lease it
// made), else new leases.
func (e *Ensurer) discard(ctx context.Context, rec, out *store.Record, res *Result) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	warn := func(what string, err error) {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the %s obtained for a login that was logged out or replaced meanwhile was not revoked: %v", what, err))
	}
	e.discardCert(ctx, rec, out, res, warn) // remint.go: while its Vault token is alive
	if out.Vault != nil && (rec.Vault == nil || !out.Vault.Secret.Equal(rec.Vault.Secret)) {
		if err := e.Chain.Vault.RevokeSelf(ctx, out.Vault.Secret); err != nil {
			warn("new Vault token "+termtext.Clean(out.Vault.Accessor), err)
		} else {
			res.Steps = append(res.Steps, "revoked the new vault token: the login changed meanwhile")
		}
		return
	}
	if out.Vault == nil {
		return // nothing can have been minted without one
	}
	for _, k := range []store.Kind{store.Nomad, store.Consul} {
		t, old := out.Token(k), rec.Token(k)
		if t == nil || t.LeaseID == "" || (old != nil && old.LeaseID == t.LeaseID) {
			continue
		}
		if err := e.Chain.Vault.RevokeLease(ctx, out.Vault.Secret, t.LeaseID); err != nil {
			warn(fmt.Sprintf("new %s token's lease %s", k, termtext.Clean(t.LeaseID)), err)
		} else {
			res.Steps = append(res.Steps, fmt.Sprintf("revoked the new %s lease: the login changed meanwhile", k))
		}
	}
}

func getErr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrLoginNeeded, err)
	}
	return err
}
