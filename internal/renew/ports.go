package renew

import (
	"context"
	"time"

	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// The chain reaches the servers through these ports, declared here by
// their consumer; internal/session wires them to internal/issue,
// internal/oidc and its fresh login, the unit tests to fakes.

// VaultAPI is what the chain needs of Vault. Its errors match ErrDenied
// when Vault refused the token and ErrUnreachable when it did not
// answer.
type VaultAPI interface {
	// RenewSelf renews the Vault token (auth/token/renew-self) and
	// returns it with its new expiry.
	RenewSelf(ctx context.Context, tok *store.Token) (*store.Token, error)
	// RenewLease renews the Vault lease behind a Nomad or Consul token
	// (sys/leases/renew/<lease id>) with the Vault token and returns the
	// token with its new expiry.
	RenewLease(ctx context.Context, vault secret.String, tok *store.Token) (*store.Token, error)
	// Mint reads <kind mount>/creds/<profile> with the Vault token.
	Mint(ctx context.Context, vault secret.String, kind store.Kind, profile string) (*store.Token, error)
	// RevokeLease revokes a lease (sys/leases/revoke).
	RevokeLease(ctx context.Context, vault secret.String, leaseID string) error
	// RevokeSelf revokes the Vault token and with it every lease it made.
	RevokeSelf(ctx context.Context, vault secret.String) error
}

// Loginer is step 4's fresh login, a port: internal/session's, the one
// fresh login of `alilogin login` too.
type Loginer interface {
	// FreshLogin logs in to Vault with the verified ID token (role =
	// rec.Profile; rec.Roles named when Vault refuses), revokes
	// rec.Vault, which the new login replaces for certain, signs a new
	// client certificate when rec has one (Vault revoked the old one
	// with its Vault token), mints the tokens of kinds in parallel,
	// capped by the new Vault token, and puts what it obtained in rec:
	// the Vault token, the certificate, each token of kinds (nil when its
	// mint failed: the old one died with the old Vault token). It
	// returns the steps and warnings to report and the errors of the
	// mints and of the certificate; err is the Vault login's (then rec
	// is unchanged). The chain holds the profile's lock and stores rec.
	FreshLogin(ctx context.Context, rec *store.Record, idToken secret.String, kinds []store.Kind) (report *Result, errs []error, err error)
}

// SSO is the OIDC provider's refresh grant.
type SSO interface {
	// Refresh runs the refresh grant and returns a verified ID token. An
	// error that wraps ErrLoginNeeded means the provider refused the
	// refresh token (expired, revoked); other errors are failures to ask.
	Refresh(ctx context.Context, refreshToken secret.String) (*Refreshed, error)
}

// Refreshed is the outcome of a refresh grant.
type Refreshed struct {
	IDToken      secret.String // verified
	IDTokenExp   time.Time
	RefreshToken secret.String // the rotated one; empty when not rotated
	Issuer       string        // the verified ID token's iss
	Subject      string        // and its sub
	User         string        // from the verified claims; empty: unchanged
	Roles        []string      // likewise
}

// CertSigner signs a new client certificate for a record with its Vault
// token, and revokes one it replaces (internal/clientcert). Its errors
// match ErrDenied and ErrUnreachable as VaultAPI's do.
type CertSigner interface {
	Sign(ctx context.Context, vault secret.String, rec *store.Record) (*clientcert.Cert, error)
	Revoke(ctx context.Context, vault secret.String, c *clientcert.Cert) error
}
