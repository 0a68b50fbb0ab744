// Package reaper deletes Nomad and Consul ACL tokens that Vault created for
// a managed profile and then lost track of.
//
// Vault's nomad and consul secrets engines create tokens with no expiry on
// the Nomad or Consul side; the token dies only when Vault revokes its lease.
// When that revocation is lost (Vault restored from an old snapshot,
// storage wiped, a revocation that failed and was force-removed), the token
// lives forever.
//
// Vault 1.13 labels the tokens it makes for role R with the unix-nano time
// of the request (checked on the real servers in the end-to-end tests):
//
//   - nomad engine: Name = "vault-<R>-<display name>-<unix nanos>", cut to
//     the engine's max_token_name_length (default 256);
//   - consul engine: Description = "Vault <R> <display name> <unix nanos>".
//
// The label names no mount, so a pass over a system first reads Vault's
// sys/mounts (engines.go): the mount the profiles name must be an engine
// of that type, else nothing of the system is reaped (a 404 under a mount
// that is no engine would read as "no lease").
//
// A token is reaped only when all of these hold: it is a plain client
// token (or, for an attended tier whose Nomad grant is management tokens,
// a management token with no policies and no ACL role; no other
// management token is ever one); its label has that exact format for a managed profile, with the
// time within ClockSlack of the token's create time (a name cut short has
// no such time and never matches); its policies are among those the
// profile grants in that system, and the profile grants that system; it is
// older than the profile's max TTL plus the grace; its label fits no role
// of another engine of that type, nor a role on the profile's mount that
// is no managed profile's (engines.go); and Vault has no lease, under
// <mount>/creds/<role>/ of any engine of that type for any role the label
// could have been made for, issued when the token was made (leases.go).
// The token the reaper itself uses is never one. Everything else is left
// alone: in doubt, keep.
//
// An attended tier (policies/: attended {...}) counts as a profile of its
// own (ProfilesOf), named as its roles, "<profile>.attended", with its
// window as max TTL: Vault's nomad engine gives management tokens no
// expiry, so one whose revocation was lost would keep every right
// forever; it is reaped by the same label, time, lease and ambiguity
// checks as a client token.
package reaper
