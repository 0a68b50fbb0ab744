package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alisw/alilogin/internal/renew"
)

// WriterLockWait is how long logout and login wait for the profile's
// lock before they give up (and change nothing): longer than a renewal
// can hold it, since each of its few server calls is bounded by a 30 s
// timeout.
const WriterLockWait = 5 * time.Minute

// ErrInterrupted: Ctrl-C (or SIGTERM) while waiting for the lock.
var ErrInterrupted = errors.New("interrupted")

// LockForWrite takes the profile's lock for a command that deletes or
// replaces its record, saying so on stderr when it has to wait. It fails
// when the wait times out or ctx ends (Ctrl-C: ErrInterrupted): such a
// command never writes without the lock, since a renewal that holds it
// could otherwise store its record back after the write, or leave what
// it minted alive.
func LockForWrite(ctx context.Context, e Env, profile string) (*renew.Lock, error) {
	dir, err := renew.LockDir(e.getenv)
	if err != nil {
		return nil, fmt.Errorf("could not lock profile %s: %w", profile, err)
	}
	// From here a Ctrl-C cancels ctx (main's signalContext takes the
	// signals on first use) instead of ending the process mid-wait.
	_ = ctx.Done()
	wait := e.LockWait
	if wait <= 0 {
		wait = WriterLockWait
	}
	l, err := renew.AcquireOrWait(ctx, dir, profile, wait, func() {
		fmt.Fprintf(e.stderr(), "alilogin: waiting for another alilogin to finish renewing profile %s (Ctrl-C to give up)\n", profile)
	})
	switch {
	case err == nil:
		return l, nil
	case ctx.Err() != nil:
		return nil, ErrInterrupted
	case errors.Is(err, renew.ErrLockTimeout):
		path, _ := renew.LockPath(dir, profile)
		return nil, fmt.Errorf("another alilogin has held the lock of profile %s (%s) for %s; try again once it has finished (the lock ends with the process that holds it: fuser %s names it)", profile, path, wait, path)
	}
	return nil, err
}
