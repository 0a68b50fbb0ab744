package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces the file at path with data, atomically, with mode 0600.
// A missing directory is created with mode 0700. On failure the old file,
// if any, is unchanged and no temporary file is left behind.
func Write(path string, data []byte) error { return write(path, data, true) }

// WriteUnsynced is Write without the fsync before the rename: a reader
// still sees the old content or the new, never a mix, but after a crash
// of the machine the file may hold the old content, or none. For files
// whose content is worthless after a reboot (the kernel-keyring cache's
// generations: the copies they tag live in kernel memory), where the
// fsync would cost every write a disk flush (1-3 ms on an SSD).
func WriteUnsynced(path string, data []byte) error { return write(path, data, false) }

func write(path string, data []byte, sync bool) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// os.CreateTemp makes the file 0600 whatever the umask.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if sync {
		if err := tmp.Sync(); err != nil {
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
