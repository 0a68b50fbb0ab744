package atomicfile

import (
	"errors"
	"io"
)

// ErrNotRegular: the path is a symlink, a directory, a FIFO, a device or
// a socket, not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ReadSmall reads at most max bytes of the regular file at path, the
// counterpart of Write for a small file of the user's (the current
// profile, the agent's pointer file): a symlink there is refused, and a
// FIFO or a device (/dev/zero, a terminal) too, without waiting on it
// (opened non-blocking, then fstat), so that no command hangs or reads
// without end. A file longer than max is returned cut at max bytes.
func ReadSmall(path string, max int64) ([]byte, error) {
	f, err := openNoFollow(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, ErrNotRegular
	}
	return io.ReadAll(io.LimitReader(f, max))
}
