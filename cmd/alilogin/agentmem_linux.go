package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// lockMemory keeps the agent's memory out of swap where it safely can:
// mlockall(MCL_CURRENT|MCL_FUTURE|MCL_ONFAULT) only when RLIMIT_MEMLOCK
// is unlimited (a systemd unit's LimitMEMLOCK=infinity), since with a
// limit the Go runtime's later mappings would fail and end the agent. It
// says what holds, for status.
func lockMemory() string {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &rl); err != nil {
		return fmt.Sprintf("may be swapped (could not read RLIMIT_MEMLOCK: %v)", err)
	}
	if rl.Cur != unix.RLIM_INFINITY {
		return fmt.Sprintf("may be swapped (RLIMIT_MEMLOCK is %d bytes, not unlimited); non-dumpable", rl.Cur)
	}
	if err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE | unix.MCL_ONFAULT); err != nil {
		return fmt.Sprintf("may be swapped (mlockall: %v); non-dumpable", err)
	}
	return "locked (mlockall), non-dumpable"
}
