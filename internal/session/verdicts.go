package session

import (
	"errors"

	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/store"
)

// What the commands ask of the packages behind the session (the store,
// the chain, the environment contract) beside a session's record, above
// all what an error means (Mismatch, Unusable, Unreadable, LoginNeeded):
// cmd turns the verdicts into exit codes and hints, and keeps flags,
// arguments and printing.

// DefaultMinTTL is the default of --min-ttl (renew.DefaultMinTTL).
const DefaultMinTTL = renew.DefaultMinTTL

// OtherServers reports whether err says that the login was made with
// other servers than configured (a renew.ServerBindingError, recorded or
// not) or with another SSO issuer and client (Mismatch).
func OtherServers(err error) bool {
	return errors.As(err, new(*renew.ServerBindingError)) || Mismatch(err)
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

// Mismatch reports whether err is a stored login made with another
// Vault, Nomad, Consul or SSO issuer (or OIDC client id) than the
// configured one: a login that is fine where it was made, which a new
// login would replace and revoke. A login that names none (an earlier
// alilogin's) is not a mismatch but a login needed.
func Mismatch(err error) bool {
	var sb *renew.ServerBindingError
	if errors.As(err, &sb) {
		return !sb.Unrecorded
	}
	var b *renew.BindingError
	return errors.As(err, &b) && b.Issuer != "" && b.ClientID != ""
}

// MismatchVars names what makes the configuration name the other server
// after a Mismatch: its address variable, or its certificate checks, or
// the SSO's issuer and client id.
func MismatchVars(err error) string {
	var sb *renew.ServerBindingError
	if !errors.As(err, &sb) {
		return "ALILOGIN_ISSUER or ALILOGIN_CLIENT_ID"
	}
	x := envcontract.For(sb.Server)
	if sb.Trust {
		return x.CACert + ", " + x.TLSServerName + " or SSL_CERT_FILE"
	}
	return x.Addr
}

// Unusable says whether err means that the stored login cannot be used
// and a new one is needed: with its own reason (a binding the
// configuration cannot fix, an identity change: says), or not
// (renew.ErrLoginNeeded). A Mismatch is not.
func Unusable(err error) (needed, says bool) {
	switch {
	case Mismatch(err):
		return false, false
	case errors.As(err, new(*renew.BindingError)), errors.As(err, new(*renew.IdentityChangedError)), errors.As(err, new(*renew.ServerBindingError)):
		return true, true
	}
	return errors.Is(err, renew.ErrLoginNeeded), false
}

// LoginNeeded reports whether err means that only a new login helps:
// nothing is stored (ErrNotLoggedIn), or the stored login cannot be used
// (Unusable). A Mismatch is not.
func LoginNeeded(err error) bool {
	needed, _ := Unusable(err)
	return errors.Is(err, ErrNotLoggedIn) || needed
}
