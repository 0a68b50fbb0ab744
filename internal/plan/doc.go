// Package plan decides what `broker apply` must change: it turns a
// *policy.Config into the objects Vault, Nomad and Consul should hold
// (Desired), and compares them with the objects they hold (Diff). It is
// pure: no I/O, no clock, so every rule of ownership and every diff is
// tested without servers. internal/apply reads the live objects and
// carries the changes out.
//
// Ownership: every object the broker writes carries the managed marker
// (Marker) in a place its system keeps; see docs/admin-guide.md. Diff never
// proposes to change or delete an object without it: a desired object whose
// name is taken by an unmanaged one is a Conflict, not an update.
package plan
