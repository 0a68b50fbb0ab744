package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/alisw/alilogin/internal/safehttp"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/termtext"
)

// ErrNoRevocation: the SSO's discovery document names no revocation
// endpoint (RFC 7009), so a refresh token cannot be revoked there.
var ErrNoRevocation = errors.New("the SSO has no token revocation endpoint")

// Revoke revokes a refresh token at the SSO's revocation endpoint
// (RFC 7009, as a public client). Used by `alilogin logout`.
func (c *Client) Revoke(ctx context.Context, refreshToken secret.String) error {
	var meta struct {
		RevocationEndpoint string `json:"revocation_endpoint"`
	}
	if err := c.provider.Claims(&meta); err != nil || meta.RevocationEndpoint == "" {
		return ErrNoRevocation
	}
	form := url.Values{"token": {refreshToken.Reveal()}, "token_type_hint": {"refresh_token"}, "client_id": {c.cfg.ClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, meta.RevocationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("could not revoke the refresh token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.hc.Do(req)
	if err != nil {
		return ssoError(c.cfg.Issuer, "revoke the refresh token at", err)
	}
	defer resp.Body.Close()
	// The whole answer (bounded by the client, safehttp.MaxSSO), so that
	// a token the provider quotes back is masked before the text is cut:
	// mask, clean, then cut.
	body, err := safehttp.ReadAll(resp.Body, safehttp.MaxSSO)
	if err != nil {
		return ssoError(c.cfg.Issuer, "read the revocation answer of", err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := mask(strings.TrimSpace(string(body)), refreshToken)
		return fmt.Errorf("could not revoke the refresh token at the SSO at %s: %d: %s", termtext.Clean(c.cfg.Issuer), resp.StatusCode, termtext.Cut(termtext.Clean(msg), maxErrorText, " [...]"))
	}
	return nil
}

// maxErrorText bounds, in characters, the part of an SSO's error answer
// put in an error (as for Vault, Nomad and Consul, internal/apiclient).
const maxErrorText = 500
