// Package elevate is alilogin elevate's sign-in: the attended tier of a
// profile (the broker's discovery document, discovery.Attended) through
// Vault's OIDC role flow on the login's loopback listener
// (internal/oidc.Run), with prompt=login added to the IdP's URL so that
// a live SSO session does not skip the sign-in, and Vault checking the
// sign-in's freshness (the role's max_age, and a bound step-up claim
// where the IdP has one). The privileged Vault token and the Nomad and
// Consul tokens minted with it are returned as a Grant, which the command
// hands to the agent and nothing else: no store, no file, no
// environment, no stdout (internal/agent elevated.go holds the window).
//
// Why not the login's own ID token: a JWT role cannot check auth_time,
// and a refresh token renews an ID token without the human. Only Vault
// redeeming a fresh code itself, for an ID token whose auth_time it
// checks, shows the server that a human has just signed in.
package elevate
