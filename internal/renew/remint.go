package renew

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// Steps 2 and 3 of the chain for the Nomad and Consul tokens (their
// leases renewed, else minted again with the Vault token, in parallel)
// and the client certificate re-signed before them: what Run does once
// the Vault token is valid for the margin.

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

// runCert re-signs out's client certificate when it is not fresh, with
// the Vault token the chain has just brought to the margin (no browser),
// and revokes the one it replaces while it is still valid (best effort:
// a warning).
func (c *Chain) runCert(ctx context.Context, out *store.Record, res *Result) error {
	if c.certFresh(out) || !out.Vault.ValidFor(c.now(), 0) {
		return nil
	}
	old := out.ClientCert
	if err := c.signCert(ctx, out, res); err != nil {
		return err
	}
	if old.ValidFor(c.now(), 0) {
		if err := c.Cert.Revoke(ctx, out.Vault.Secret, old); err != nil {
			res.Warnings = append(res.Warnings, err.Error())
		}
	}
	return nil
}

func (c *Chain) signCert(ctx context.Context, out *store.Record, res *Result) error {
	n, err := c.Cert.Sign(ctx, out.Vault.Secret, out)
	if err != nil {
		return fmt.Errorf("could not renew the client certificate: %w", err)
	}
	// The directories of the certificate replaced keep its files until
	// env or exec rewrite them there: the record keeps naming them, and
	// the new one's (store.Record.CertDirs), for logout.
	out.CertDirs = out.CertFileDirs()
	out.ClientCert = n
	out.AddCertDir(n.Dir)
	res.step("signed a new client certificate (serial %s)", n.Serial)
	return nil
}

// discardCert revokes the certificate the chain signed into out for a
// login that was replaced or deleted meanwhile (Ensurer.discard), with
// out's Vault token, which signed it.
func (e *Ensurer) discardCert(ctx context.Context, rec, out *store.Record, res *Result, warn func(string, error)) {
	n := out.ClientCert
	if e.Chain.Cert == nil || n == nil || out.Vault == nil || rec.ClientCert != nil && rec.ClientCert.Serial == n.Serial {
		return
	}
	if err := e.Chain.Cert.Revoke(ctx, out.Vault.Secret, n); err != nil {
		warn("new client certificate "+termtext.Clean(n.Serial), err)
		return
	}
	res.Steps = append(res.Steps, "revoked the new client certificate: the login changed meanwhile")
}
