//go:build !(linux || freebsd || openbsd || netbsd || dragonfly)

package store

// sessionBus: macOS and Windows keyrings need no session bus.
func sessionBus(func(string) string) error { return nil }

// secretService: macOS and Windows keyrings are no D-Bus services.
func secretService() error { return nil }

// keyringAbsent: macOS and Windows always have their keyring.
func keyringAbsent(error) bool { return false }
