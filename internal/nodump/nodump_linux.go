package nodump

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Set makes the process non-dumpable.
func Set() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("could not make the process non-dumpable: %w", err)
	}
	return nil
}

// Dumpable reports the process's dumpable flag.
func Dumpable() (bool, error) {
	r, _, errno := unix.Syscall(unix.SYS_PRCTL, unix.PR_GET_DUMPABLE, 0, 0)
	if errno != 0 {
		return false, fmt.Errorf("could not read the dumpable flag: %w", errno)
	}
	return r != 0, nil
}
