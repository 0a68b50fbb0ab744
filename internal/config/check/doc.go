// Package check holds the rules for the settings that end up in Vault API
// paths and in network connections: mount paths and server addresses.
// alilogin's configuration (its file, the environment and the broker's
// discovery document) and the broker's broker.hcl both use them, so that a
// mount such as "../../sys/policies/acl" or a token sent over plain HTTP
// across the network is refused the same way everywhere.
//
// It is not the configuration itself (internal/config reads and merges it)
// and it makes no network call: it only says whether a value may be used.
package check
