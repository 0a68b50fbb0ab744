package tokenhelper

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReview13ScriptNotInDirOthersCanWrite: the helper script is code
// that the vault CLI runs for every command, as the user, and whose
// output is the token the CLI sends: whoever can replace it runs code as
// the user. WriteScript writes it into an existing
// directory that others may write (a config directory made group- or
// world-writable by a umask or by hand) without a word, so another user
// can rename their own script over it.
func TestReview13ScriptNotInDirOthersCanWrite(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o770} {
		dir := filepath.Join(t.TempDir(), "alilogin")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		err := WriteScript(filepath.Join(dir, "vault-token-helper"), Script([]string{"/usr/bin/alilogin"}))
		st, serr := os.Stat(dir)
		if serr != nil {
			t.Fatal(serr)
		}
		if err == nil && st.Mode().Perm()&0o022 != 0 {
			t.Errorf("script written into %s, mode %v: others may replace it", dir, st.Mode())
		}
	}
}
