//go:build unix

package session

import (
	"errors"
	"os"
	"syscall"
)

// openNoFollow opens path for reading without following a symlink
// there, and without blocking on a FIFO.
func openNoFollow(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
}

// isSymlinkErr: openNoFollow found a symlink.
func isSymlinkErr(err error) bool { return errors.Is(err, syscall.ELOOP) }
