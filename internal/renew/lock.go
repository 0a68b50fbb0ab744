package renew

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/store"
	"github.com/gofrs/flock"
)

// DefaultLockWait is how long a process waits for another one to finish
// renewing the same profile before it gives up.
const DefaultLockWait = 60 * time.Second

// ErrLockTimeout is returned when the lock was held by another process for
// longer than the wait allowed.
var ErrLockTimeout = errors.New("timed out waiting for another alilogin")

// Lock is a held per-profile lock.
type Lock struct{ f *flock.Flock }

// LockDir returns the directory of the lock files: locks/ in alilogin's
// user state directory (the file store's neighbour).
func LockDir(getenv func(string) string) (string, error) {
	d, err := store.StateDir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "locks"), nil
}

// LockPath is the lock file of profile in dir.
func LockPath(dir, profile string) (string, error) {
	if profile == "" || strings.ContainsAny(profile, `/\:`) || profile == "." || profile == ".." || strings.ContainsRune(profile, 0) {
		return "", fmt.Errorf("invalid profile name %q", profile)
	}
	return filepath.Join(dir, profile+".lock"), nil
}

// Acquire takes the exclusive lock of profile in dir, waiting at most wait
// (DefaultLockWait when zero) or until ctx ends. The directory is created
// 0700 when missing.
func Acquire(ctx context.Context, dir, profile string, wait time.Duration) (*Lock, error) {
	return AcquireOrWait(ctx, dir, profile, wait, nil)
}

// AcquireOrWait is Acquire that calls waiting, when it is not nil, once
// the lock turns out to be held by another process, before it waits.
func AcquireOrWait(ctx context.Context, dir, profile string, wait time.Duration, waiting func()) (*Lock, error) {
	path, err := LockPath(dir, profile)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("could not create lock directory: %w", err)
	}
	if wait <= 0 {
		wait = DefaultLockWait
	}
	f := flock.New(path, flock.SetPermissions(0o600))
	if waiting != nil {
		ok, err := f.TryLock()
		if ok {
			return &Lock{f: f}, nil
		}
		if err == nil {
			waiting()
		}
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	ok, err := f.TryLockContext(wctx, 20*time.Millisecond)
	if ok {
		return &Lock{f: f}, nil
	}
	_ = f.Close()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("could not lock profile %s (%s): %w", profile, path, err)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("could not lock profile %s: %w", profile, ctx.Err())
	}
	return nil, fmt.Errorf("could not lock profile %s: %w, which has held %s for %s", profile, ErrLockTimeout, path, wait)
}

// Release lets go of the lock. The lock file stays: removing it would let
// two processes hold locks on different inodes of the same path.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Unlock()
	l.f = nil
	return err
}
