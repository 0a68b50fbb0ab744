// Package leader elects one broker instance among several with a lock in
// Consul's KV store, held by a Consul session, through Consul's HTTP API.
//
// The session is not bound to the node's health: broker instances run as
// Nomad allocations next to other work on a node, so the node staying
// healthy says nothing about the broker. Instead each instance registers a
// service of its own (AliveService) with a 3s TTL check that it passes
// every second, and binds its session to that check: when the process
// dies, the check turns critical within 3s and Consul invalidates the
// session and frees the lock. The session also has a TTL (10s, Consul's
// minimum), renewed every TTL/3, as a fallback when the check cannot be
// registered; Consul then frees the lock within 2×TTL. The leader stops
// leading at the first failed check pass (or second failed renewal), before
// Consul can give the lock away. Followers wait on the key with blocking
// queries, so they notice a release at once. The session's lock-delay is
// set low (default 1s) so that a takeover is not held back by Consul's 15s
// default.
//
// On a clean shutdown the leader releases the lock and destroys its
// session, so a follower takes over within a second.
package leader
