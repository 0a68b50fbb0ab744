//go:build linux || freebsd || openbsd || netbsd || dragonfly

package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// errNoSessionBus: the Secret Service is out of reach without starting a
// D-Bus session bus, which alilogin never does.
var errNoSessionBus = errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset and there is no $XDG_RUNTIME_DIR/bus)")

// sessionBus reports whether the D-Bus library will find a running session
// bus rather than autolaunch one: DBUS_SESSION_BUS_ADDRESS, else the bus
// socket in $XDG_RUNTIME_DIR (made the address, since the library itself
// only looks in /run/user/<uid>), else /run/user/<uid>/bus or
// /run/user/<uid>/dbus-session, where the library looks.
func sessionBus(getenv func(string) string) error {
	if a := getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		bus := filepath.Join(d, "bus")
		if st, err := os.Stat(bus); err == nil && st.Mode().Type() == fs.ModeSocket {
			return os.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+bus)
		}
	}
	run := fmt.Sprintf("/run/user/%d", os.Getuid())
	if st, err := os.Stat(filepath.Join(run, "bus")); err == nil && st.Mode().Type() == fs.ModeSocket {
		return nil
	}
	if _, err := os.Stat(filepath.Join(run, "dbus-session")); err == nil {
		return nil
	}
	return errNoSessionBus
}
