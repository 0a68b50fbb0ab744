// Package e2e runs the alilogin binary as a real process against the real
// test stack: Vault, Nomad, Consul, Hydra with its login app, headless
// Chromium and gnome-keyring.
//
// It is not where a unit's rules are tested: those tests sit beside their
// package, without servers.
package e2e
