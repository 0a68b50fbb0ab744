package oidc

// The discovery document is read again at every login, refresh and logout,
// and it names where the code, the PKCE verifier, the refresh token and
// the device code go. The issuer and client id binding of a stored login
// says nothing about those addresses, so a changed document of the same
// issuer (a tampered cache or CDN copy, a misconfigured backchannel URL)
// would move the refresh token elsewhere, or to plain http. Each endpoint
// is therefore held to the issuer's own origin, the way CERN's Keycloak
// and Ory Hydra serve them. An SSO that serves its token endpoint on
// another host is refused; there is no allow-list of other origins.

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/safehttp"
	"github.com/alisw/alilogin/internal/termtext"
)

// endpoint is one address of the discovery document and what goes there.
type endpoint struct {
	field    string // its name in the document, e.g. "token_endpoint"
	url      string
	required bool
}

// checkEndpoints refuses a discovery document whose token, revocation,
// device authorization endpoint or key set is not on the issuer's origin
// (scheme, host and port), or is plain http:// for an issuer that is not
// http:// on loopback (or opted in with Config.InsecureHTTP).
func (c *Client) checkEndpoints() error {
	var meta struct {
		RevocationEndpoint string `json:"revocation_endpoint"`
		JWKSURI            string `json:"jwks_uri"`
	}
	if err := c.provider.Claims(&meta); err != nil {
		return fmt.Errorf("could not read the discovery document of the SSO at %s: %w", termtext.Clean(c.cfg.Issuer), err)
	}
	ep := c.provider.Endpoint()
	for _, e := range []endpoint{
		{"token_endpoint", ep.TokenURL, true},
		{"jwks_uri", meta.JWKSURI, true},
		{"revocation_endpoint", meta.RevocationEndpoint, false},
		{"device_authorization_endpoint", ep.DeviceAuthURL, false},
	} {
		if e.url == "" && !e.required {
			continue
		}
		if err := c.checkEndpoint(e.field, e.url); err != nil {
			return err
		}
	}
	return nil
}

// checkEndpoint checks one endpoint of the discovery document against
// the issuer's origin and the plain-HTTP rule.
func (c *Client) checkEndpoint(field, raw string) error {
	issuer := termtext.Clean(c.cfg.Issuer)
	refuse := func(why string) error {
		return fmt.Errorf("the discovery document of the SSO at %s names %s %q: %s; refused before anything is sent there",
			issuer, field, termtext.Clean(raw), why)
	}
	if raw == "" {
		return fmt.Errorf("the discovery document of the SSO at %s names no %s", issuer, field)
	}
	iu, err := url.Parse(c.cfg.Issuer)
	if err != nil {
		return fmt.Errorf("the SSO issuer %q is not a URL", issuer)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return refuse("not a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		return refuse("want an https:// URL")
	case u.Host == "" || u.Hostname() == "":
		return refuse("no host")
	case u.User != nil:
		return refuse("it carries a user name or password")
	case u.Fragment != "":
		return refuse("it has a fragment")
	}
	if strings.EqualFold(u.Scheme, "http") && !c.plainHTTPAllowed(iu) {
		return refuse("plain http:// would carry secrets unencrypted; the endpoints must be https:// like the issuer")
	}
	if got, want := safehttp.Origin(u), safehttp.Origin(iu); got != want {
		return refuse(fmt.Sprintf("it is on %s, not on the issuer's origin %s (endpoints must share the issuer's scheme, host and port)",
			termtext.Clean(got), termtext.Clean(want)))
	}
	return nil
}

// plainHTTPAllowed reports whether an http:// endpoint may be used for the
// issuer iu: only when the issuer itself is http:// on loopback, or
// http:// with the user's insecure_http opt-in.
func (c *Client) plainHTTPAllowed(iu *url.URL) bool {
	if !strings.EqualFold(iu.Scheme, "http") {
		return false
	}
	return c.cfg.InsecureHTTP || check.Loopback(iu.Hostname())
}

// checkAuthEndpoint refuses an authorization endpoint that the system
// browser must not open: anything but https:// (http:// on loopback, or
// with the opt-in) on the issuer's origin, so no file:, no custom URL
// handler (vscode:, ms-settings:) and no page elsewhere asking for the
// SSO password.
func (c *Client) checkAuthEndpoint() error {
	return c.checkEndpoint("authorization_endpoint", c.provider.Endpoint().AuthURL)
}
