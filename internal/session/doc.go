// Package session is alilogin's use case, between the commands (which
// parse flags and print) and the pieces (config, store, oidc, issue,
// renew).
//
// session.go is the door every command that uses a stored login goes
// through: Open picks the configuration, the store and the profile;
// Session.Ensure runs the renewal chain, wired with its adapters (clock
// injected) in chain.go; LockForWrite is the lock of a command that
// writes the login. Login makes the one fresh login (freshlogin.go,
// freshLogin.run, which reads top to bottom: Vault JWT login, client
// certificate, Nomad and Consul minted in parallel with expiries capped,
// stored under the profile's lock, what it replaces revoked), which is
// also the chain's step 4 through its port renew.Loginer. Logout
// (logout.go) revokes and deletes under the lock. The refresh token is
// used here only (the chain's step 4 through ssoRefresher, and logout's
// revocation).
package session
