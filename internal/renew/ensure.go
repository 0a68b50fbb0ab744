package renew

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

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
	LockWait time.Duration // 0: DefaultLockWait
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
	lk, err := Acquire(ctx, e.LockDir, profile, e.LockWait)
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
	e.discardCert(ctx, rec, out, res, warn) // clientcert.go: while its Vault token is alive
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
