// Package hostile is a toolkit of misbehaving HTTP servers for tests:
// servers that redirect elsewhere, answer slowly or hold responses back,
// send huge bodies, put terminal escape sequences in their text, or lie
// about who they are. What no real Vault, Nomad, Consul or SSO does on its
// own is written here, in test code, and used by the tests of every
// promise in docs/security.md. Nothing in production imports it.
//
// Each server records what it received (Recorder), so a test can assert
// that a token header or a request body never reached it.
package hostile
