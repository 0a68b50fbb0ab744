package secret

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
)

// Redacted is what a secret prints instead of its value.
const Redacted = "[REDACTED]"

// String is a secret value. The zero value is the empty secret.
type String struct {
	_ [0]func()
	v *string
}

// New wraps a value as a secret.
func New(v string) String {
	if v == "" {
		return String{}
	}
	return String{v: &v}
}

// Reveal returns the secret itself. Call it only where the value must leave
// the process: an HTTP header, stdout of `alilogin token`, the store.
func (s String) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// Empty reports whether the secret is unset.
func (s String) Empty() bool { return s.Reveal() == "" }

// Equal reports whether two secrets hold the same value (go-cmp uses it too).
func (s String) Equal(o String) bool { return s.Reveal() == o.Reveal() }

// String implements fmt.Stringer and never shows the value.
func (s String) String() string {
	if s.Empty() {
		return ""
	}
	return Redacted
}

// GoString covers %#v.
func (s String) GoString() string { return s.String() }

// Format covers every fmt verb (%d, %x, %q, ...) and keeps width and the
// '-' flag for alignment; the value never reaches the output.
func (s String) Format(f fmt.State, verb rune) {
	text := s.String()
	if verb == 'q' {
		text = strconv.Quote(text)
	}
	if w, ok := f.Width(); ok && w > len(text) {
		pad := make([]byte, w-len(text))
		for i := range pad {
			pad[i] = ' '
		}
		if f.Flag('-') {
			text += string(pad)
		} else {
			text = string(pad) + text
		}
	}
	_, _ = f.Write([]byte(text))
}

// MarshalJSON never shows the value.
func (s String) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(s.String())), nil }

// UnmarshalJSON reads a JSON string, so that a server's answer decodes
// straight into a secret and the value never sits in a plain string field.
func (s *String) UnmarshalJSON(b []byte) error {
	var v *string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("could not read a secret: expected a JSON string")
	}
	if v == nil {
		*s = String{}
		return nil
	}
	*s = New(*v)
	return nil
}

// MarshalText never shows the value.
func (s String) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue keeps the value out of slog output.
func (s String) LogValue() slog.Value { return slog.StringValue(s.String()) }
