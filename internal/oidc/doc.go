// Package oidc is alilogin's public OpenID Connect client: authorization
// code with PKCE (S256), state and nonce on a loopback listener (RFC 8252)
// that acts on the one callback carrying this login's state, the device
// authorization grant (RFC 8628) for machines without a browser, and the
// refresh grant. Every ID token is verified with go-oidc (signature
// against the issuer's keys, iss, aud, exp, and nonce where one was sent)
// and for its azp (OpenID Connect Core 3.1.3.7) before anything else sees
// it.
//
// The system browser is handed a start URL on the loopback listener
// (http://127.0.0.1:PORT/start) that carries nothing of the login, never
// the authorization URL: the argv of xdg-open and of the browser is
// world-readable in /proc/<pid>/cmdline, and whoever has the state can
// finish or cancel the login. The start URL redirects to the
// authorization URL. On Linux the listener answers only connections
// whose socket belongs to the user (internal/peercred); elsewhere the
// start URL is served once (loopback.go).
//
// Everything the SSO says that reaches a terminal (the device flow's URL
// and code, error descriptions, the sign-in URL built from its discovery
// document) goes through termtext.Clean.
//
// The discovery document is read again for every login, refresh and
// logout, so it is not trusted with where secrets go: every endpoint the
// client uses (token, revocation, device authorization, keys, and the
// authorization endpoint the browser is sent to) must be on the issuer's own
// origin and not plain http unless the issuer is (endpoints.go).
//
// The SSO is CERN's Keycloak in production and Ory Hydra in the tests;
// nothing here is specific to either. The user's identity comes from two
// configurable claims: the user claim (cern_upn) and the roles claim
// (cern_roles), which may be a JSON pointer such as
// /resource_access/<client>/roles for providers that nest it.
package oidc
