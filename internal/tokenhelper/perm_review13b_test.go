package tokenhelper

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReview13bScriptNotUnderParentOthersCanWrite: WriteScript checks
// the script's own directory only. When a directory above it may be
// written by others and is not sticky (XDG_CONFIG_HOME in a group's
// shared directory, a home made group-writable), another user renames
// the user's private directory away and puts their own directory, with
// their own script, at the same path: the vault CLI then runs their code
// as the user at every command. Setup must refuse such a place as it
// refuses a directory others can write.
func TestReview13bScriptNotUnderParentOthersCanWrite(t *testing.T) {
	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil { // open to all, not sticky
		t.Fatal(err)
	}
	dir := filepath.Join(shared, "alilogin")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := WriteScript(filepath.Join(dir, "vault-token-helper"), Script([]string{"/usr/bin/alilogin"})); err == nil {
		t.Errorf("script written into %s under %s (mode 0777, not sticky): another user may swap the directory", dir, shared)
	}
}
