// Command demo is `make demo`: it starts the local stack, applies the ALICE
// example policies (policies/) with `broker apply`, which gives the SSO
// role alice-ci-users the profile "ci-user" in Vault, Nomad and Consul,
// runs `alilogin login`, and shows the Nomad and Consul CLIs working with
// the tokens alilogin stored.
//
// With a display, the browser opens and a person signs in as alice /
// alice. Without one (or with -auto), the demo signs alice in itself with
// headless Chromium on the printed URL.
//
//	go run ./internal/teststack/cmd/demo [-auto] [-keep]
//
// It is not part of a release: it needs the test stack and runs only from a
// source tree.
package main
