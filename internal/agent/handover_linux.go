package agent

import (
	"fmt"
	"os"
	"strconv"
)

// sameExecutable: the executable of process pid is the same file as
// ours.
func sameExecutable(pid int) (bool, error) {
	self, err := os.Stat("/proc/self/exe")
	if err != nil {
		return false, fmt.Errorf("could not read our own executable: %w", err)
	}
	peer, err := os.Stat("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return false, fmt.Errorf("could not read the executable of process %d: %w", pid, err)
	}
	return os.SameFile(self, peer), nil
}
