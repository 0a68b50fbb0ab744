// Package renew keeps a profile's tokens usable without a browser: the
// renewal chain behind `alilogin token`, `env` and `exec`.
//
// The chain, for each token a caller wants:
//
//  1. the cached token is valid for longer than the minimum TTL: use it,
//     with no network call at all;
//  2. else renew its Vault lease (sys/leases/renew/<lease id>), when the
//     lease is renewable and its max TTL allows;
//  3. else mint a new Nomad/Consul token with the stored Vault token
//     (renewed first when it can be) and revoke the replaced lease;
//  4. else use the stored refresh token: OIDC refresh grant, a verified
//     ID token, then the fresh login of `alilogin login` through the
//     one-method port Loginer (internal/session's: a new Vault login, the
//     old Vault token revoked, which revokes its leases, a new client
//     certificate, new Nomad/Consul tokens);
//  5. else ErrLoginNeeded.
//
// Steps 2-4 talk to servers and change the stored record, so only one
// process per profile runs them at a time: Ensure takes the profile's
// file lock (internal/store's lock.go, in the user state directory),
// re-reads the store under it (another process may have done the work
// while this one waited) and writes the result back before letting go.
//
// The servers are reached through the small interfaces declared in
// ports.go; the commands wire them to internal/issue and internal/oidc,
// and the unit tests to httptest fakes.
package renew
