package session

import (
	"io"
	"time"

	"github.com/alisw/alilogin/internal/exitcode"
)

// Exit codes of alilogin that the use case decides: the table of both
// tools in internal/exitcode (documented in docs/commands.md).
const (
	ExitUsage       = exitcode.Usage       // bad flags or arguments
	ExitPartial     = exitcode.Partial     // some tokens were issued (or revoked), others not
	ExitLoginNeeded = exitcode.LoginNeeded // no usable session: run `alilogin login`
	ExitMismatch    = exitcode.Mismatch    // a login of another Vault/Nomad/Consul/SSO than configured
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
