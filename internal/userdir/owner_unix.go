//go:build unix

package userdir

import (
	"io/fs"
	"syscall"
)

// HasOwners: files have a uid on this system. Where they do, an owner
// that Owner cannot tell (fi not from a stat) is a reason to refuse.
const HasOwners = true

// Owner is the uid that owns the file fi describes; known is false where
// the system does not say (not a Unix system, or fi not from a stat),
// and uid is then NoUID.
func Owner(fi fs.FileInfo) (uid int, known bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return NoUID, false
	}
	return int(st.Uid), true
}
