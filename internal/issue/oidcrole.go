package issue

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// Vault's OIDC role flow (auth/<mount>/oidc/auth_url and oidc/callback of
// the JWT/OIDC plugin), the way attended elevation gets its privileged
// token: Vault makes the authorization URL (its state, nonce and PKCE
// challenge, and the role's max_age), redeems the code with its
// confidential client and checks the ID token, auth_time included,
// itself.

// OIDCAuthRequest asks Vault for the authorization URL of an OIDC role.
type OIDCAuthRequest struct {
	Mount       string // the oidc auth mount, e.g. "oidc"
	Role        string
	RedirectURI string
	ClientNonce secret.String // binds the callback to this client
}

// OIDCAuthURL is Vault's authorization URL for req. Vault answers an
// empty URL, saying nothing more, when the role does not allow the
// redirect URI (or the mount is misconfigured).
func OIDCAuthURL(ctx context.Context, vault *apiclient.Client, req OIDCAuthRequest) (string, error) {
	mount := strings.Trim(req.Mount, "/")
	var out struct {
		Data struct {
			AuthURL string `json:"auth_url"`
		} `json:"data"`
	}
	err := vault.WithToken(secret.String{}).Do(ctx, http.MethodPost, "/v1/auth/"+apiclient.EscapePath(mount)+"/oidc/auth_url",
		map[string]string{"role": req.Role, "redirect_uri": req.RedirectURI, "client_nonce": req.ClientNonce.Reveal()}, &out)
	if err != nil {
		return "", oidcError(err, mount, req.Role, "start the sign-in")
	}
	if out.Data.AuthURL == "" {
		return "", fmt.Errorf("%s gave no sign-in URL for role %q of auth/%s: the role does not allow the redirect URI %s, or the mount is not configured (ask the broker's admins)",
			serverName(vault), req.Role, mount, req.RedirectURI)
	}
	u, err := url.Parse(out.Data.AuthURL)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("%s gave an invalid sign-in URL for role %q", serverName(vault), req.Role)
	}
	return out.Data.AuthURL, nil
}

// OIDCCallbackRequest hands the IdP's answer to Vault.
type OIDCCallbackRequest struct {
	Mount       string
	Role        string // for messages
	State, Code string
	ClientNonce secret.String
}

// OIDCCallback redeems the code through Vault: the token of the role,
// when Vault accepts the sign-in (its state, the ID token, the role's
// bound claims and max_age).
func OIDCCallback(ctx context.Context, vault *apiclient.Client, req OIDCCallbackRequest, now time.Time) (*store.Token, error) {
	mount := strings.Trim(req.Mount, "/")
	q := url.Values{"state": {req.State}, "code": {req.Code}, "client_nonce": {req.ClientNonce.Reveal()}}
	var out authResponse
	// Do, never DoIdempotent: a state is used once.
	err := vault.WithToken(secret.String{}).Do(ctx, http.MethodGet, "/v1/auth/"+apiclient.EscapePath(mount)+"/oidc/callback?"+q.Encode(), nil, &out)
	if err != nil {
		return nil, oidcError(err, mount, req.Role, "sign in with")
	}
	return out.token(serverName(vault), now)
}

// oidcError translates Vault's refusal of an OIDC role call.
func oidcError(err error, mount, role, what string) error {
	var ae *apiclient.Error
	if !errors.As(err, &ae) || ae.Status == 0 {
		return fmt.Errorf("could not %s role %q of Vault's auth/%s: %w", what, role, mount, err)
	}
	reason := termtext.Clean(vaultMessage(ae.Errors))
	if reason == "" {
		reason = http.StatusText(ae.Status)
	}
	if ae.Status == http.StatusNotFound || strings.Contains(reason, "no handler for route") {
		return fmt.Errorf("Vault at %s has no OIDC auth method at auth/%s (ask the broker's admins)", ae.Addr, mount)
	}
	return &ElevationRefusedError{Role: role, Reason: reason}
}

// ElevationRefusedError is Vault refusing the attended sign-in: a stale
// sign-in (max_age), a missing step-up claim, a role the user lacks, an
// expired state.
type ElevationRefusedError struct {
	Role   string
	Reason string // Vault's words, cleaned
}

func (e *ElevationRefusedError) Error() string {
	return fmt.Sprintf("Vault refused the attended sign-in for role %q (%s)", e.Role, e.Reason)
}
