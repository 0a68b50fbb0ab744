// Package secret holds the type used for every credential alilogin and the
// broker handle: tokens, refresh tokens, ID tokens, keys. A secret.String
// prints itself as [REDACTED] under every fmt verb, in logs and in JSON, so
// that a token can only leave the process through an explicit call to Reveal.
//
// The value sits behind a pointer, not in a string: fmt prints a string-kinded
// value raw where it bypasses methods (%p, and an unexported field of a struct
// printed whole), but it prints a pointer found inside a value as an address.
// The blank [0]func() field makes String incomparable, so that == (which would
// compare pointers) does not compile; use Equal.
//
// It is not storage or encryption: where secrets are kept is internal/store;
// this only keeps them out of text.
package secret
