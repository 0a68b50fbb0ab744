package filelock

import (
	"context"
	"errors"
	"time"

	"github.com/gofrs/flock"
)

// ErrTimeout: another process held the lock for the whole wait.
var ErrTimeout = errors.New("lock held for the whole wait")

// Lock is a held lock.
type Lock struct{ f *flock.Flock }

// Acquire takes the exclusive lock of the file at path (created 0600;
// its directory must exist), waiting at most wait, polling every poll,
// or until ctx ends (then ctx's error). waiting, when not nil, is called
// once the lock turns out to be held by another, before the wait. Any
// other failure is returned as it is.
func Acquire(ctx context.Context, path string, wait, poll time.Duration, waiting func()) (*Lock, error) {
	f := flock.New(path, flock.SetPermissions(0o600))
	ok, err := f.TryLock()
	switch {
	case ok:
		return &Lock{f: f}, nil
	case err != nil:
		_ = f.Close()
		return nil, err
	case waiting != nil:
		waiting()
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	ok, err = f.TryLockContext(wctx, poll)
	if ok {
		return &Lock{f: f}, nil
	}
	_ = f.Close()
	switch {
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err == nil || errors.Is(err, context.DeadlineExceeded):
		return nil, ErrTimeout
	}
	return nil, err
}

// Release lets go of the lock. The lock file stays: removing it would
// let two processes hold locks on different inodes of the same path.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Unlock()
	_ = l.f.Close()
	l.f = nil
	return err
}
