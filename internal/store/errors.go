package store

import (
	"errors"
	"fmt"
)

// ErrNotFound: no record for the profile.
var ErrNotFound = errors.New("no stored login for this profile")

// CorruptError is a record that exists but cannot be read. The fix is a
// new login (which overwrites it) or logout: the command line says so.
type CorruptError struct {
	Profile string
	Where   string // "keyring" or the file path
	Err     error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("stored login for profile %q in %s is unreadable (%v)", e.Profile, e.Where, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// ValidProfileName reports whether name can be a profile (a Vault role
// name and a store key): a letter or digit, then up to 127 letters, digits,
// '.', '_' or '-'. Checked by hand rather than with a regexp: compiling
// one at start-up costs `alilogin token` more than the check ever will.
func ValidProfileName(name string) bool {
	if name == "" || len(name) > 128 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

func checkProfile(p string) error {
	if !ValidProfileName(p) {
		return fmt.Errorf("invalid profile name %q", p)
	}
	return nil
}
