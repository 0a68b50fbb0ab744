// Package filelock is the one exclusive file lock of alilogin: the
// per-profile lock of the renewal chain, login and logout
// (internal/renew) and the keyring index lock (internal/store) are both
// an flock(2) on a 0600 file, taken with a bounded wait.
//
// It is not a lock between machines or a lock of the broker's instances
// (that is internal/leader, in Consul), and it knows nothing of profiles or
// records.
package filelock
