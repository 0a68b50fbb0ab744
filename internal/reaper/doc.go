// Package reaper deletes Nomad and Consul ACL tokens that Vault created for
// a managed profile and then lost track of.
//
// Vault's nomad and consul secrets engines create tokens with no expiry on
// the Nomad or Consul side; the token dies only when Vault revokes its lease.
// When that revocation is lost (Vault restored from an old snapshot,
// storage wiped, a revocation that failed and was force-removed), the token
// lives forever. A lease can never outlive its profile's max TTL (the Vault
// token that reads nomad/creds/P comes from JWT role P, whose token_max_ttl
// is the profile's max TTL), so a Vault-made token older than max TTL plus a
// grace period is an orphan.
//
// Vault 1.13 names the tokens it makes (checked on the real servers in the
// end-to-end tests):
//
//   - nomad engine: Name = "vault-<role>-<display name>-<unix nanos>",
//     cut to max_token_name_length (default 256);
//   - consul engine: Description = "Vault <role> <display name> <unix nanos>".
//
// The role is the profile name. Profile names may contain '-', so a name is
// attributed to the longest managed profile it starts with. Only tokens so
// attributed are candidates; the token the reaper itself uses is never one.
// Everything else is left alone.
package reaper
