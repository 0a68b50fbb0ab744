// Package discovery is the public document a broker serves at
// GET /v1/discovery and alilogin reads (`alilogin setup --broker URL`, or a
// `broker` entry in the user config): where the SSO, Vault, Nomad and
// Consul are, which mounts to use, and which profiles exist with the SSO
// roles that may use them.
//
// The document is public: it holds addresses, names and claim names, never
// a secret. Both sides use the same Go type so that the wire format has a
// single definition; Version lets a newer broker add fields without
// breaking older clients (unknown fields are ignored on read).
package discovery
