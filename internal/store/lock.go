package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/filelock"
)

// The per-profile lock: a login, a renewal and a logout of a profile
// write its record only while they hold it, so that none of them
// overwrites what another wrote meanwhile.

// DefaultLockWait is how long a process waits for another one to finish
// renewing the same profile before it gives up.
const DefaultLockWait = 60 * time.Second

// ErrLockTimeout is returned when the lock was held by another process for
// longer than the wait allowed.
var ErrLockTimeout = errors.New("timed out waiting for another alilogin")

// Lock is a held per-profile lock.
type Lock struct{ l *filelock.Lock }

// LockDir returns the directory of the lock files: locks/ in alilogin's
// user state directory (the file store's neighbour).
func LockDir(getenv func(string) string) (string, error) {
	d, err := StateDir(getenv)
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

// AcquireLock takes the exclusive lock of profile in dir, waiting at most wait
// (DefaultLockWait when zero) or until ctx ends. The directory is created
// 0700 when missing.
func AcquireLock(ctx context.Context, dir, profile string, wait time.Duration) (*Lock, error) {
	return AcquireLockOrWait(ctx, dir, profile, wait, nil)
}

// AcquireLockOrWait is AcquireLock that calls waiting, when it is not nil, once
// the lock turns out to be held by another process, before it waits.
func AcquireLockOrWait(ctx context.Context, dir, profile string, wait time.Duration, waiting func()) (*Lock, error) {
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
	l, err := filelock.Acquire(ctx, path, wait, 20*time.Millisecond, waiting)
	switch {
	case err == nil:
		return &Lock{l: l}, nil
	case errors.Is(err, filelock.ErrTimeout):
		return nil, fmt.Errorf("could not lock profile %s: %w, which has held %s for %s", profile, ErrLockTimeout, path, wait)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("could not lock profile %s: %w", profile, ctx.Err())
	}
	return nil, fmt.Errorf("could not lock profile %s (%s): %w", profile, path, err)
}

// Release lets go of the lock; the lock file stays.
func (l *Lock) Release() error {
	if l == nil {
		return nil
	}
	return l.l.Release()
}
