//go:build !unix

package atomicfile

import (
	"io/fs"
	"os"
)

// openNoFollow opens path for reading; a symlink there is refused.
func openNoFollow(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, ErrNotRegular
	}
	return os.Open(path)
}
