package renew

import (
	"errors"
	"fmt"

	"github.com/alisw/alilogin/internal/termtext"
)

// ErrLoginNeeded means no step of the chain can produce the token without a
// new interactive login.
var ErrLoginNeeded = errors.New("a new login is needed")

// What the chain needs to know of a server's error, whatever the
// transport: the adapters of VaultAPI and CertSigner return errors that
// match these (errors.Is), with their own text.
var (
	// ErrDenied: the server refused the token (Vault's 403: revoked,
	// expired, or without the policy).
	ErrDenied = errors.New("the server refused the token")
	// ErrUnreachable: no server answered (connection refused, timeout,
	// TLS failure).
	ErrUnreachable = errors.New("the server could not be reached")
)

// BindingError: the stored login was made with another issuer or OIDC
// client than the one configured now, or does not say which (a record of
// an earlier alilogin). Its refresh token goes only to the token endpoint
// of the issuer and client id it was issued by, so it is not used: a new
// login is needed. It wraps ErrLoginNeeded.
type BindingError struct {
	Profile          string
	Issuer, ClientID string // the stored login's
	// What the configuration says now.
	ConfiguredIssuer, ConfiguredClientID string
}

func (e *BindingError) Error() string {
	switch {
	case e.Issuer == "" || e.ClientID == "":
		return fmt.Sprintf("the stored login of profile %s does not say which SSO issuer and client id it was made with (an earlier alilogin wrote it), so its refresh token is not sent anywhere", e.Profile)
	case e.Issuer != e.ConfiguredIssuer:
		return fmt.Sprintf("the stored login of profile %s was made with the SSO issuer %s, but the configured issuer is %s; its refresh token goes only to the issuer that made it",
			e.Profile, termtext.Clean(e.Issuer), termtext.Clean(e.ConfiguredIssuer))
	default:
		return fmt.Sprintf("the stored login of profile %s was made with the OIDC client id %s at %s, but the configured client id is %s; its refresh token goes only to the client it was issued to",
			e.Profile, termtext.Clean(e.ClientID), termtext.Clean(e.Issuer), termtext.Clean(e.ConfiguredClientID))
	}
}

func (e *BindingError) Unwrap() error { return ErrLoginNeeded }

// IdentityChangedError: a refresh grant gave an ID token for another
// issuer or subject than the stored login's. The record is dropped (its
// Vault token revoked) and a new login is needed. It wraps
// ErrLoginNeeded.
type IdentityChangedError struct {
	Profile               string
	Issuer, Subject       string // the stored login's
	GotIssuer, GotSubject string // the refreshed ID token's
}

func (e *IdentityChangedError) Error() string {
	return fmt.Sprintf("the SSO refreshed the login of profile %s for another identity (issuer %s, subject %s; the login was made for issuer %s, subject %s), so the stored login was removed",
		e.Profile, termtext.Clean(e.GotIssuer), termtext.Clean(e.GotSubject), termtext.Clean(e.Issuer), termtext.Clean(e.Subject))
}

func (e *IdentityChangedError) Unwrap() error { return ErrLoginNeeded }
