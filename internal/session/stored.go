package session

import (
	"errors"

	"github.com/alisw/alilogin/internal/store"
)

// What the commands need of the store beside a session's record: the
// store stays behind the session.

// NotStored reports whether err says that the profile has no stored
// login (store.ErrNotFound).
func NotStored(err error) bool { return errors.Is(err, store.ErrNotFound) }

// StateDir is alilogin's state directory (store.StateDir), where the
// token helper keeps its files too.
func StateDir(getenv func(string) string) (string, error) { return store.StateDir(getenv) }

// Watch is the profile's generation file and its content now
// (store.Watch): a login, renewal or logout by any alilogin of the user
// changes it. "" and "" when there is nothing to watch (off Linux).
func (s *Session) Watch() (path, gen string) {
	p, g, ok := store.Watch(s.Env.getenv, s.Profile)
	if !ok {
		return "", ""
	}
	return p, string(g)
}
