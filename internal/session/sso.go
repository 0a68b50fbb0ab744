package session

import (
	"context"
	"errors"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/oidc"
)

// What `alilogin login` asks of the SSO client and the issuer through
// the session: cmd keeps the flags and the printing.

// SignInTimeout is the default of login's --timeout (oidc.DefaultTimeout).
const SignInTimeout = oidc.DefaultTimeout

// CheckListen checks login's --listen (oidc.CheckListen): a loopback
// address with a port.
func CheckListen(spec string) error {
	_, err := oidc.CheckListen(spec)
	return err
}

// NewSSO discovers the SSO of cfg (its issuer, client id, scopes and
// claims) for a login.
func NewSSO(ctx context.Context, e Env, cfg *config.Config) (*oidc.Client, error) {
	return oidc.New(ctx, oidc.Config{Issuer: cfg.Issuer, ClientID: cfg.ClientID, Scopes: cfg.Scopes,
		RolesClaim: cfg.RolesClaim, UserClaim: cfg.UserClaim, InsecureHTTP: cfg.InsecureHTTP, Now: e.Now})
}

// UnknownProfile reports whether err is Vault's refusal of a profile it
// has no role for (a typo): the next login, with the right name, needs
// no new sign-in.
func UnknownProfile(err error) bool {
	var re *issue.RefusedError
	return errors.As(err, &re) && re.Unknown
}

// UnknownNoneListed reports whether err is UnknownProfile where no
// profile is configured to name instead: the broker can list them.
func UnknownNoneListed(err error) bool {
	var re *issue.RefusedError
	return errors.As(err, &re) && re.Unknown && len(re.Known) == 0
}

// SignInEnded reports whether err is a sign-in that ended without a
// login and may be run again (oidc.ErrSignInEnded); SignInDenied, one
// refused on the other device (oidc.ErrDeviceDenied).
func SignInEnded(err error) bool  { return errors.Is(err, oidc.ErrSignInEnded) }
func SignInDenied(err error) bool { return errors.Is(err, oidc.ErrDeviceDenied) }

// NoDeviceFlow: the device flow was asked for and the SSO has none.
func NoDeviceFlow(err error) bool { return errors.Is(err, oidc.ErrNoDeviceFlow) }
