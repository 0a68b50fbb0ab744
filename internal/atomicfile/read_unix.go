//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"syscall"
)

// openNoFollow opens path for reading without following a symlink
// there (ErrNotRegular), and without blocking on a FIFO.
func openNoFollow(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, ErrNotRegular
	}
	return f, err
}
