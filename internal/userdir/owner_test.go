//go:build unix

package userdir

import (
	"os"
	"testing"
)

type noStat struct{ os.FileInfo }

func (noStat) Sys() any { return nil }

func TestOwnerIsTheFilesUID(t *testing.T) {
	fi, err := os.Stat(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if uid, known := Owner(fi); !known || uid != os.Getuid() {
		t.Errorf("Owner(a directory of ours) = %d, %v; want %d, true", uid, known, os.Getuid())
	}
	root, err := os.Stat("/")
	if err != nil {
		t.Fatal(err)
	}
	if uid, known := Owner(root); !known || uid != 0 {
		t.Errorf("Owner(/) = %d, %v; want 0, true", uid, known)
	}
	if uid, known := Owner(noStat{fi}); known || uid != NoUID || uid == os.Getuid() {
		t.Errorf("Owner(a FileInfo without a stat) = %d, %v; want NoUID, false", uid, known)
	}
}
