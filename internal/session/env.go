package session

import (
	"errors"
	"io"
	"time"
)

// UsageError: the flags, arguments or choices given cannot work;
// nothing was done (cmd/alilogin: exit code 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usage(err error) error { return &UsageError{err} }

// ErrNotLoggedIn: no login is stored for any profile the command could
// use (cmd/alilogin: exit code 4, with the hint to log in).
var ErrNotLoggedIn = errors.New("not logged in")

// Env is what the use case may touch of the outside world.
type Env struct {
	Getenv func(string) string
	Stderr io.Writer // notices and warnings
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LockWait is how long logout and login wait for the profile's lock;
	// zero means WriterLockWait.
	LockWait time.Duration
}

func (e Env) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}

func (e Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e Env) stderr() io.Writer {
	if e.Stderr == nil {
		return io.Discard
	}
	return e.Stderr
}
