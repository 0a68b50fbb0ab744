//go:build !linux

package nodump

// Set does nothing outside Linux (macOS denies ptrace of keychain users by
// other means; Windows has no such flag).
func Set() error { return nil }

// Dumpable reports true: there is no flag to clear.
func Dumpable() (bool, error) { return true, nil }
