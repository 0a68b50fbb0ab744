//go:build unix

package userdir

import (
	"io/fs"
	"syscall"
)

// Owner is the uid that owns the file fi describes; known is false where
// the system does not say (not a Unix system, or fi not from a stat).
func Owner(fi fs.FileInfo) (uid int, known bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, false
	}
	return int(st.Uid), true
}
