package testutil

import (
	"os"
	"testing"
)

// ShortTempDir makes a directory directly under the system's temporary
// directory (os.MkdirTemp with prefix), removed when the test ends, for
// what t.TempDir does not give: a short path (a UNIX socket's is bounded
// to about 100 bytes) and parents that another uid may cross (t.TempDir's
// are 0700). mode, when not 0, is set on it.
func ShortTempDir(t testing.TB, prefix string, mode os.FileMode) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if mode != 0 {
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
