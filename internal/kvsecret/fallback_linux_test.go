package kvsecret

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// fallbackDir: /dev/shm when statfs says tmpfs, else os.TempDir().
func fallbackDir(t *testing.T) string {
	t.Helper()
	var fs unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &fs); err == nil && fs.Type == unix.TMPFS_MAGIC {
		return "/dev/shm"
	}
	return os.TempDir()
}
