package benchstack

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// dropCache writes p's pages to disk and drops them from the page cache.
func dropCache(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("could not settle %s: %w", p, err)
	}
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return fmt.Errorf("could not settle %s: %w", p, err)
	}
	return nil
}
