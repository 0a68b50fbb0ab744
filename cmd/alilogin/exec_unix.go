//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// execCommand replaces alilogin with the command: signals reach it
// directly, and its exit code is ours.
func execCommand(path string, argv, env []string) error {
	if err := syscall.Exec(path, argv, env); err != nil {
		return fmt.Errorf("could not run %s: %w", path, err)
	}
	return nil // not reached
}
