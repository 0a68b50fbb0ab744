// Package config resolves alilogin's settings from, in order of precedence:
// command-line flags, the environment (VAULT_ADDR, NOMAD_ADDR,
// CONSUL_HTTP_ADDR, their *_CACERT / *_CLIENT_CERT / *_CLIENT_KEY twins and
// ALILOGIN_*), the HCL file in the user config directory, a discovery
// document (from the broker), and the built-in CERN defaults.
//
// Each source is a Layer: a Config whose zero fields mean "not set here".
// Resolve overlays them, so adding a source (as the broker discovery does)
// is one more Layer in the list, not a new code path.
//
// The file is read with hclsyntax and a small schema decoder (file.go) and
// edited in place for `alilogin setup` (edit.go), not with gohcl and
// hclwrite: those link go-cmp and more package init into every alilogin
// command, `token` included.
package config
