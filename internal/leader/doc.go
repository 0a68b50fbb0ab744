// Package leader elects one broker instance among several with a lock in
// Consul's KV store, held by a Consul session, through Consul's HTTP API.
//
// Why a session with a TTL and not one bound to the node's health: broker
// instances run as Nomad allocations next to other work on a node, so the
// node staying healthy says nothing about the broker. The holder renews its
// session every TTL/3; when the process dies, Consul invalidates the session
// after at most 2×TTL (Consul's own grace) and the lock is free again.
// Followers wait on the key with a blocking query, so they notice a release
// at once. The session's lock-delay is set low (default 1s) so that a
// takeover is not held back by Consul's 15s default.
//
// On a clean shutdown the leader releases the lock and destroys its
// session, so a follower takes over within a second.
package leader
