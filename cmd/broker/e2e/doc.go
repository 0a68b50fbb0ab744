// Package e2e runs the broker binary as a real process against the real
// test stack: Vault with its JWT auth method and nomad and consul secrets
// engines, Nomad, Consul and Hydra (for users' ID tokens).
//
// It is not where `broker serve` as a long-running process is tested:
// internal/serve/e2e does that.
package e2e
