// Command stack starts the local test stack (Vault, Nomad, Consul, Ory Hydra
// with the test login app, and a private Secret Service) on loopback for a
// person, prints how to reach it, and stays up until Ctrl-C.
//
//	go run ./internal/teststack/cmd/stack up [-env FILE]
//
// It is not a deployment: the stack is throw-away development servers with
// root tokens on loopback.
package main
