// Package issue turns a verified identity into tokens: the Vault JWT login
// with role = profile, then the Nomad and Consul tokens read, in parallel,
// from Vault's nomad and consul secrets engines. It also renews and revokes
// them (the renewal chain of `alilogin token` and `logout` use these).
//
// Vault is the broker of record: every Nomad and Consul token is a Vault
// lease under the user's Vault token, so revoking that token revokes them.
// Failures are translated here, at the adapter, into plain words: a refused
// role names the user's roles and the profile's, a 403 names the path, a
// server that is down is named with its address.
package issue
