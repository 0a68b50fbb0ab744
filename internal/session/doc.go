// Package session is alilogin's use case, between the commands (which
// parse flags and print) and the pieces (config, store, oidc, issue,
// renew): Open picks the configuration, the store and the profile; Login
// stores a fresh login through renew.Login, the one fresh login of login
// and of the chain's step 4 (Vault JWT login, Nomad and Consul minted in
// parallel, expiries capped), stored here under the profile's lock and
// what it replaces revoked; Session.Ensure runs the renewal chain, whose Vault
// and SSO adapters live here with the clock injected; Logout revokes and
// deletes under the lock. The refresh token is used here only (the
// chain's step 4 through ssoRefresher, and logout's revocation).
package session
