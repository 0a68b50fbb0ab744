package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/store"
)

// TestStatusCleansAProfilesError: with several logins, status shows an
// unreadable one's error in its row with no control character, though
// the path it names holds one.
func TestStatusCleansAProfilesError(t *testing.T) {
	env := twoLogins(t)
	state := filepath.Join(t.TempDir(), "st\x1b[2Jate")
	if err := os.Rename(env["XDG_STATE_HOME"], state); err != nil {
		t.Fatal(err)
	}
	env["XDG_STATE_HOME"] = state
	st, err := store.StateDir(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(st, "records", "broken.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, out, errb := alilogin(env, "status")
	if !strings.Contains(out+errb, "unreadable") || strings.ContainsRune(out+errb, '\x1b') {
		t.Errorf("status with an unreadable login under a path with an escape:\nstdout %q\nstderr %q", out, errb)
	}
}
