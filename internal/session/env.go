package session

import (
	"io"
	"time"
)

// Exit codes of alilogin that the use case decides (documented in
// docs/user-guide.md); the commands' exit codes are these.
const (
	ExitUsage       = 2 // bad flags or arguments
	ExitPartial     = 3 // some tokens were issued (or revoked), others not
	ExitLoginNeeded = 4 // no usable session: run `alilogin login`
)

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
