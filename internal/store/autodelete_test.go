package store

import (
	"errors"
	"testing"
)

// TestAutoDeleteFailingKeyringIsNotSuccess: the record is in the
// OS keyring (read a moment ago by logout, which revoked its tokens); the
// keyring's Delete then fails (a timeout, a locked collection whose unlock
// prompt is dismissed, a D-Bus error: all become *UnavailableError). The
// file store has no copy, so Auto.Delete returns the file store's
// ErrNotFound, which logout reads as "already gone" and prints "logged
// out": the keyring item stays, and every later command (token, status,
// env) finds the login again, against "what logout removed never comes
// back". The same when a stale file copy exists (ferr == nil): success.
func TestAutoDeleteFailingKeyringIsNotSuccess(t *testing.T) {
	for _, staleFile := range []bool{false, true} {
		kr, m := newTestKeyring(0)
		a := &Auto{Keyring: kr, File: NewFile(t.TempDir())}
		if staleFile {
			m.down = true
			_ = a.Put(testRecord("ci")) // an earlier fallback copy in the file
			m.down = false
			_ = kr.Put(testRecord("ci"))
		} else if err := a.Put(testRecord("ci")); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Get("ci"); err != nil {
			t.Fatal(err)
		}
		m.down = true // the keyring fails for the delete only
		err := a.Delete("ci")
		m.down = false
		_, gerr := a.Get("ci")
		if gerr == nil && (err == nil || errors.Is(err, ErrNotFound)) {
			t.Errorf("stale file copy %v: Delete = %v (success or not-found, which logout treats as logged out), but the record is still stored in the keyring and Get finds it", staleFile, err)
		}
	}
}
