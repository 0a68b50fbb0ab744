package kvsecret

import (
	"os"

	"golang.org/x/sys/unix"
)

// isTmpfs: dir is a directory on a tmpfs (memory) that others cannot
// take over: sticky when it is open to everyone, as /dev/shm is.
func isTmpfs(dir string) bool {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil || fs.Type != unix.TMPFS_MAGIC {
		return false
	}
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return false
	}
	return st.Mode().Perm()&0o002 == 0 || st.Mode()&os.ModeSticky != 0
}
