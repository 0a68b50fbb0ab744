// Package e2e runs the guard's rules in a small reverse proxy in front of
// the real Vault, Nomad and Consul of the test stack, with the real CLIs:
// what each rule rests on (how the servers decode paths, what their
// answers hold) is checked against the servers themselves.
package e2e
