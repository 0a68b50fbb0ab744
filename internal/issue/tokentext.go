package issue

import (
	"fmt"

	"github.com/alisw/alilogin/internal/secret"
)

// MaxTokenLen bounds a token as received. Vault service tokens (hvs.…)
// are about 95 characters, batch tokens a few hundred; Nomad and Consul
// tokens are UUIDs.
const MaxTokenLen = 4096

// checkToken refuses a token that alilogin would later print (token),
// write into shell code (env) or put in an environment (exec) and that
// is not what any real Vault, Nomad or Consul issues: empty, longer than
// MaxTokenLen, or with a byte outside printable ASCII or a space. A
// token cannot be cleaned without changing it, so it is refused; the
// error names the server (from, e.g. "Vault at https://…") and what it
// sent, never the token itself.
func checkToken(from, what string, tok secret.String) error {
	s := tok.Reveal()
	switch {
	case s == "":
		return fmt.Errorf("%s answered without %s", from, what)
	case len(s) > MaxTokenLen:
		return fmt.Errorf("%s sent a %s of %d bytes (over %d): not a token, refused", from, what, len(s), MaxTokenLen)
	}
	if i := unprintable(s); i >= 0 {
		return fmt.Errorf("%s sent a %s with a byte 0x%02x at offset %d (a token is printable ASCII without spaces): refused", from, what, s[i], i)
	}
	return nil
}

// unprintable is the offset of the first byte of s that is not printable
// ASCII or is a space, or -1.
func unprintable(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' {
			return i
		}
	}
	return -1
}

// MaxIDLen bounds an accessor or lease id as received. Accessors are a
// few dozen characters; a lease id is the creds path (mount and role)
// plus a random part.
const MaxIDLen = 1024

// checkID refuses an accessor or lease id that is not what a real Vault
// sends: longer than MaxIDLen, or with a byte outside printable ASCII or
// a space (the rule of checkToken). alilogin prints them in warnings and
// status and sends lease ids back in paths. Empty is allowed: a batch
// token has no accessor, an unleased secret no lease id. Unlike a token,
// the value is not secret, but the error still does not repeat it.
func checkID(from, what, s string) error {
	if len(s) > MaxIDLen {
		return fmt.Errorf("%s sent a %s of %d bytes (over %d): refused", from, what, len(s), MaxIDLen)
	}
	if i := unprintable(s); i >= 0 {
		return fmt.Errorf("%s sent a %s with a byte 0x%02x at offset %d (printable ASCII without spaces expected): refused", from, what, s[i], i)
	}
	return nil
}
