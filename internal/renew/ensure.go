package renew

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alisw/alilogin/internal/store"
)

// Store is what Ensure needs of the record store.
type Store interface {
	Get(profile string) (*store.Record, error)
	Put(r *store.Record) error
}

// Ensurer runs the chain for one profile under its file lock.
type Ensurer struct {
	Chain    *Chain
	Store    Store
	LockDir  string
	LockWait time.Duration // 0: DefaultLockWait
}

// Ensure returns the profile's record with the tokens of kinds valid for
// longer than the margin. On the fast path (step 1) it reads the store once
// and makes no network call and takes no lock. Otherwise it takes the
// profile's lock, re-reads the store (another process may have renewed
// while this one waited), runs the chain and stores the result before
// letting go. A missing record is ErrLoginNeeded wrapped with
// store.ErrNotFound.
func (e *Ensurer) Ensure(ctx context.Context, profile string, kinds []Kind) (*store.Record, *Result, error) {
	rec, err := e.Store.Get(profile)
	if err != nil {
		return nil, &Result{}, getErr(err)
	}
	if e.Chain.Fresh(rec, kinds) {
		return rec, &Result{}, nil
	}
	lk, err := Acquire(ctx, e.LockDir, profile, e.LockWait)
	if err != nil {
		return nil, &Result{}, err
	}
	defer lk.Release()
	rec, err = e.Store.Get(profile)
	if err != nil {
		return nil, &Result{}, getErr(err)
	}
	out, res, err := e.Chain.Run(ctx, rec, kinds)
	if res.Changed {
		if perr := e.Store.Put(out); perr != nil {
			return out, res, errors.Join(err, fmt.Errorf("could not store the renewed tokens: %w", perr))
		}
	}
	return out, res, err
}

func getErr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrLoginNeeded, err)
	}
	return err
}
