package renew

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

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
	// left as they are (clientcert.go).
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
	if c.Direct.on() {
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
	c.logoutReplaced(ctx, rec, out, res) // a direct Consul token Vault's replaced
	if err != nil {
		return out, res, err
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
	// The certificate first (clientcert.go): the re-mints' calls to
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

// anyDenied reports whether a server refused a token in one of errs.
func anyDenied(errs []error) bool {
	return slices.ContainsFunc(errs, func(err error) bool { return errors.Is(err, ErrDenied) })
}

// vaultRefused reports whether Vault refuses the stored Vault token.
func (c *Chain) vaultRefused(ctx context.Context, rec *store.Record) bool {
	_, err := c.Vault.RenewSelf(ctx, rec.Vault)
	return errors.Is(err, ErrDenied)
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
		} else if errors.Is(err, ErrUnreachable) || ctx.Err() != nil {
			return nil, steps, nil, fmt.Errorf("%s: %w", k, err) // the adapter's "could not renew the lease: ..."
		}
	}
	t, err := c.Vault.Mint(ctx, vault, k, rec.Profile)
	if err != nil {
		if errors.Is(err, ErrNoEngine) {
			err = &NoEngineError{Kind: k, Err: err}
		}
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
