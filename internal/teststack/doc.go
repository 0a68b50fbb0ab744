// Package teststack starts the real servers that alilogin and the broker
// work with — Vault, Nomad, Consul, Ory Hydra as the OpenID provider (with a
// login/consent app written here), the Secret Service (gnome-keyring in a
// private D-Bus session) and headless Chromium — on free 127.0.0.1 ports, for
// end-to-end tests and for `go run ./internal/teststack/cmd/stack up`.
//
// The server binaries are built by tools/stack/build.sh from pinned tool
// modules into $ALILOGIN_STACK_CACHE/bin (default ~/.cache/alilogin-stack/bin).
// A missing binary is an error, never a skip: the end-to-end tests are the
// proof that the product works with the real servers.
//
// Every process runs in its own process group with a parent-death signal, so
// that a test binary that panics or times out leaves nothing behind; Close
// stops them and removes their temporary directories.
//
// Typical use, one stack per test package:
//
//	var stack *teststack.Stack
//
//	func TestMain(m *testing.M) { os.Exit(teststack.Main(m, teststack.Options{}, &stack)) }
//
// Packages that run alilogin or broker as processes build them first with
// MainWithBinaries (or BuildBinaries); CopyPolicies gives the broker a copy
// of policies/ with a broker.hcl for the stack.
package teststack
