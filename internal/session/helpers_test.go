package session

import (
	"bytes"
	"errors"

	"github.com/alisw/alilogin/internal/renew"
)

// The classes of error the tests expect, named by the exit code
// cmd/alilogin gives them: a *UsageError, no login (ErrNotLoggedIn,
// renew.ErrLoginNeeded), anything else.
const (
	exitError       = 1
	exitUsage       = 2
	exitLoginNeeded = 4
)

// codeOf is the class of err (exitUsage, exitLoginNeeded, exitError).
func codeOf(err error) int {
	switch {
	case errors.As(err, new(*UsageError)):
		return exitUsage
	case errors.Is(err, ErrNotLoggedIn), errors.Is(err, renew.ErrLoginNeeded):
		return exitLoginNeeded
	}
	return exitError
}

func testEnv(env map[string]string) (*Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &Env{Getenv: func(k string) string { return env[k] }, Stderr: &errb}, &out, &errb
}

type cancelOnWrite struct {
	w      interface{ Write([]byte) (int, error) }
	cancel func()
}

func (c *cancelOnWrite) Write(b []byte) (int, error) {
	c.cancel()
	return c.w.Write(b)
}
