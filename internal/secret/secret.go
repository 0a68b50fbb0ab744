// Package secret holds the type used for every credential alilogin and the
// broker handle: tokens, refresh tokens, ID tokens. A secret.String prints
// itself as [REDACTED] in fmt verbs, logs and JSON, so that a token can only
// leave the process through an explicit call to Reveal.
package secret

import "log/slog"

// Redacted is what a secret prints instead of its value.
const Redacted = "[REDACTED]"

// String is a secret value. The zero value is the empty secret.
type String string

// Reveal returns the secret itself. Call it only where the value must leave
// the process: an HTTP header, stdout of `alilogin token`, the store.
func (s String) Reveal() string { return string(s) }

// Empty reports whether the secret is unset.
func (s String) Empty() bool { return s == "" }

// String implements fmt.Stringer and never shows the value.
func (s String) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString covers %#v.
func (s String) GoString() string { return s.String() }

// MarshalJSON never shows the value.
func (s String) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText never shows the value.
func (s String) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue keeps the value out of slog output.
func (s String) LogValue() slog.Value { return slog.StringValue(s.String()) }
