// Package e2e runs the reaper against the real Vault, Nomad and Consul of
// the test stack: orphans made by Vault's engines, live tokens, hand-made
// ones, a second engine of the same type, a mount that is no engine. The
// reaper's own tests (internal/reaper) run without servers.
package e2e
