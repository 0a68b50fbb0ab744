//go:build unix

package tokenhelper

import (
	"os"
	"testing"
)

type noStat struct{ os.FileInfo }

func (noStat) Sys() any { return nil }

// TestUnknownOwnerIsRefused: on a system where files have owners, a
// file whose owner cannot be told is neither the user's nor root's for
// the checks of the token helper's script and directories; a file of
// the user's is.
func TestUnknownOwnerIsRefused(t *testing.T) {
	fi, err := os.Stat(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !mine(fi) || !mineOrRoot(fi) {
		t.Errorf("a directory of the user's: mine %v, mineOrRoot %v; want true, true", mine(fi), mineOrRoot(fi))
	}
	if mine(noStat{fi}) || mineOrRoot(noStat{fi}) {
		t.Errorf("an owner that cannot be told: mine %v, mineOrRoot %v; want false, false", mine(noStat{fi}), mineOrRoot(noStat{fi}))
	}
}
