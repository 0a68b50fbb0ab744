package store

import (
	"errors"
	"fmt"
	"regexp"
)

// ErrNotFound: no record for the profile.
var ErrNotFound = errors.New("no stored login for this profile")

// CorruptError is a record that exists but cannot be read. The fix is a
// new login (which overwrites it) or logout.
type CorruptError struct {
	Profile string
	Where   string // "keyring" or the file path
	Err     error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("stored login for profile %q in %s is unreadable (%v); run: alilogin login --profile %s", e.Profile, e.Where, e.Err, e.Profile)
}

func (e *CorruptError) Unwrap() error { return e.Err }

var profileRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func checkProfile(p string) error {
	if !profileRE.MatchString(p) {
		return fmt.Errorf("invalid profile name %q", p)
	}
	return nil
}
