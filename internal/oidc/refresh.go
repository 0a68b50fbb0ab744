package oidc

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/alisw/alilogin/internal/secret"
)

// ErrRefreshRefused: the SSO no longer accepts the refresh token (expired,
// revoked, session ended). A new interactive login is needed.
var ErrRefreshRefused = errors.New("the SSO session has ended")

// Refresh runs the refresh grant and returns a verified ID token and the
// new refresh token (the old one when the SSO did not rotate it). A
// refused refresh token is ErrRefreshRefused.
func (c *Client) Refresh(ctx context.Context, refreshToken secret.String) (*Result, error) {
	if refreshToken.Empty() {
		return nil, ErrRefreshRefused
	}
	oc := c.oauth2("")
	tok, err := oc.TokenSource(c.ctx(ctx), &oauth2.Token{RefreshToken: refreshToken.Reveal()}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && (re.ErrorCode == "invalid_grant" || re.ErrorCode == "unauthorized_client" || (re.Response != nil && (re.Response.StatusCode == 400 || re.Response.StatusCode == 401))) {
			return nil, fmt.Errorf("%w: %v", ErrRefreshRefused, grantError(c.cfg.Issuer, "the refresh token", err, refreshToken))
		}
		return nil, grantError(c.cfg.Issuer, "the refresh token", err, refreshToken)
	}
	res, err := c.result(ctx, tok, "")
	if err != nil {
		return nil, err
	}
	if res.RefreshToken.Empty() {
		res.RefreshToken = refreshToken
	}
	return res, nil
}
