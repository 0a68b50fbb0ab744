// Package policy loads and validates the broker's policies/ directory: the
// HCL files in which admins declare which SSO roles may use which profile,
// and the Vault, Nomad and Consul ACL policy documents those profiles name.
//
// Load is strict and exhaustive: it parses every file, keeps going after a
// problem, and returns every diagnostic with file:line:column, so that one
// `broker validate` run shows all the mistakes of a change. Policy documents
// are checked against each system's own policy language (the blocks,
// attributes and values that Vault, Nomad and Consul accept), so that a
// typo is caught before `broker apply` writes anything.
//
// The package knows nothing about the servers; internal/plan turns a
// *Config into the objects each server should hold.
package policy
