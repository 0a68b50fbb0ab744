package session

import (
	"bytes"
	"errors"
	"testing"

	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/secret"
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

func canonical(t *testing.T, addr string) string {
	t.Helper()
	c, err := check.Canonical(addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sentToken reports whether a request to s carried tok in X-Vault-Token.
func sentToken(s *hostile.Server, tok secret.String) bool {
	for _, r := range s.Requests() {
		if r.Header.Get("X-Vault-Token") == tok.Reveal() {
			return true
		}
	}
	return false
}

type cancelOnWrite struct {
	w      interface{ Write([]byte) (int, error) }
	cancel func()
}

func (c *cancelOnWrite) Write(b []byte) (int, error) {
	c.cancel()
	return c.w.Write(b)
}
