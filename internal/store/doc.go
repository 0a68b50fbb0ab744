// Package store keeps alilogin's per-profile Record: in the OS keyring
// (Secret Service, Keychain, Windows Credential Manager, through
// zalando/go-keyring behind a wrapper with a timeout) or, when no keyring
// is reachable or an item is too large for it, in a 0600 file written
// atomically in a 0700 directory under the user state directory.
//
// The Record's secrets are secret.String, which redact themselves in JSON;
// the backends serialise them through an explicit wire form, so a Record
// printed or logged by mistake never shows a token.
//
// On Linux, the keyring and automatic stores are wrapped in a KernelCache
// (kcache.go): a short-lived copy of each record in the kernel key
// retention service, read with a stat of the profile's generation file and
// two system calls, and no D-Bus at all. Every write and delete gives the
// profile a new generation (kcache_gen.go), so no session serves a copy
// of a record that another session renewed or logged out.
//
// On a kernel cache miss, the store Open returns reads the keyring the
// fast way (fastread_linux.go): three pipelined Secret Service exchanges
// on a raw session-bus socket, falling back to go-keyring for anything
// unusual; a record read that way is rewritten the same way. The
// connection and its session stay open for the next call (closed after
// two idle seconds): a renewal's later reads and its write are one
// exchange each. Callers see only Store: Open hides the tiers, and
// Authoritative reads past the kernel cache for the renewal chain.
package store
