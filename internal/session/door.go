package session

import (
	"errors"
	"fmt"

	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/store"
)

// What the commands ask of the packages behind the session (the store,
// the chain, the environment contract) beside a session's record: cmd
// keeps flags, arguments and printing.

// DefaultMinTTL is the default of --min-ttl (renew.DefaultMinTTL).
const DefaultMinTTL = renew.DefaultMinTTL

// OtherServers reports whether err says that the login was made with
// other servers than configured (a renew.ServerBindingError, recorded or
// not) or with another SSO issuer and client (Mismatch).
func OtherServers(err error) bool {
	return errors.As(err, new(*renew.ServerBindingError)) || Mismatch(err)
}

// RefuseNesting is exec's refusal to run inside another `alilogin exec`
// (envcontract.ExecMarker is set, to its profile); nil outside one.
func RefuseNesting(getenv func(string) string) error {
	if p := getenv(envcontract.ExecMarker); p != "" {
		return fmt.Errorf("already inside 'alilogin exec' for profile %s (%s is set); nesting is refused: run the command directly, or unset %s first", p, envcontract.ExecMarker, envcontract.ExecMarker)
	}
	return nil
}

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
