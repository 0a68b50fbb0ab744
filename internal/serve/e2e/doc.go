// Package e2e runs `broker serve` as real processes against the real test
// stack: reconcile, drift, a broken folder, orphan reaping, two instances
// under the leader lock, the Nomad job spec, discovery -> alilogin
// setup -> alilogin login, and the warnings of a run (a managed policy
// with a reserved name, Vault's default policy without the lease deny).
//
// It is not the place for the reconcile loop's rules, which internal/serve
// tests without servers.
package e2e
