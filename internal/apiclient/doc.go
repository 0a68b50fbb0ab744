// Package apiclient is the one HTTP client that alilogin and the broker use to
// talk to Vault, Nomad and Consul. All three speak JSON over HTTP with a token
// header, and ALICE runs them behind client-certificate TLS, so the transport,
// the TLS set-up and the translation of failures into plain words live here
// once. System-specific calls (Vault login, Nomad ACL policies, ...) live in
// the packages that use them.
//
// Failures come back as *Error, which names the server and its address, so
// that "Vault at https://... is unreachable" reaches the user instead of a
// bare dial error. Tokens are secret.String and never appear in errors.
//
// A token goes only to the configured origin: a redirect to another scheme,
// host or port is refused before anything is sent there (internal/safehttp),
// and the *Error names both addresses. Answers are bounded (MaxAnswer).
// Error bodies are masked (the token sent, any JWT), then stripped of
// control characters and made one line (termtext.OneLine), then cut, in that order, so that no
// secret escapes in part across the cut and no escape sequence reaches a
// terminal.
package apiclient
