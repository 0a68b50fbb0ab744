//go:build unix

package clientcert

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

func checkOwner(fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Getuid() {
		return errors.New("owned by another user")
	}
	return nil
}

// checkOwnerOrRoot: fi is ours or root's.
func checkOwnerOrRoot(fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && st.Uid != 0 && int(st.Uid) != os.Getuid() {
		return errors.New("owned by another user")
	}
	return nil
}
