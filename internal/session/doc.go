// Package session is alilogin's use case, between the commands (which
// parse flags and print) and the pieces (config, store, oidc, issue,
// renew): Open picks the configuration, the store and the profile; Login
// makes the one fresh login (freshlogin.go, freshLogin.run, which reads
// top to bottom: Vault JWT login, client certificate, Nomad and Consul
// minted in parallel with expiries capped, stored under the profile's
// lock, what it replaces revoked), which is also the chain's step 4
// through its port renew.Loginer; Session.Ensure runs the renewal chain,
// whose Vault and SSO adapters live here with the clock injected; Logout
// revokes and
// deletes under the lock. The refresh token is used here only (the
// chain's step 4 through ssoRefresher, and logout's revocation).
package session
