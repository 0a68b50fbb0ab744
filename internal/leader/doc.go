// Package leader elects one broker instance among several with a lock in
// Consul's KV store, held by a Consul session.
//
// The lock itself is consul/api's Lock (acquire, wait on a held key with
// blocking queries, watch the held key, release); this package makes the
// session the lock is held by, and keeps it alive. It is not a general
// Consul client: the broker's other Consul calls go through
// internal/apiclient, and the lock's client is built over the same
// apiclient.Client (address, token, TLS material, redirect policy).
//
// The session is not bound to the node's health: broker instances run as
// Nomad allocations next to other work on a node, so the node staying
// healthy says nothing about the broker. Instead each instance registers a
// service of its own (AliveService) with a 4s TTL check that it passes
// every second, and binds its session to that check: when the process
// dies, the check turns critical within 4s and Consul invalidates the
// session and frees the lock. The session also has a TTL (10s, Consul's
// minimum), renewed every TTL/3, as a fallback when the check cannot be
// registered; Consul then frees the lock within 2×TTL. The leader stops
// leading at the first failed check pass (or second failed renewal, or a
// failed watch of the key or of LegacyKey), before Consul can give the lock
// away. The
// session has no lock-delay (consul/api's Lock would wait a fixed 5s after
// one): the check's TTL leaves the leader 2s to stop instead.
//
// On a clean shutdown the leader releases the lock and destroys its
// session, so a follower takes over at once.
//
// The lock key is DefaultKey, not LegacyKey of brokers before consul/api's
// Lock: consul/api refuses a key it did not write (api.ErrLockConflict).
// On DefaultKey the leader also holds LegacyKey with the same session
// (flags 0, as those brokers wrote it) and watches it while leading, so
// that an older and a newer broker never lead at once (holdBoth says why
// holding it, not checking it).
//
// The lock's consul/api client reads nothing of the process's environment
// (client.go): consul/api's NewClient would take CONSUL_HTTP_TOKEN_FILE,
// CONSUL_NAMESPACE, CONSUL_PARTITION and CONSUL_HTTP_SSL from it.
package leader
