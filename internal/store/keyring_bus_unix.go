//go:build linux || freebsd || openbsd || netbsd || dragonfly

package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// errNoSessionBus: the Secret Service is out of reach without starting a
// D-Bus session bus, which alilogin never does.
var errNoSessionBus = errors.New("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset and there is no $XDG_RUNTIME_DIR/bus)")

// sessionBus reports whether the D-Bus library will find a running session
// bus rather than autolaunch one: DBUS_SESSION_BUS_ADDRESS, else the bus
// socket in $XDG_RUNTIME_DIR (made the address, since the library itself
// only looks in /run/user/<uid>), else /run/user/<uid>/bus or the address
// in /run/user/<uid>/dbus-session, where the library looks. That file
// counts only as the library reads it ("DBUS_SESSION_BUS_ADDRESS=<address>",
// see sessionFileAddress); anything else in it would make the library
// autolaunch a bus.
func sessionBus(getenv func(string) string) error {
	if a := getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && !strings.Contains(a, "autolaunch:") {
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
	if a, ok := sessionFileAddress(filepath.Join(run, "dbus-session")); ok {
		return os.Setenv("DBUS_SESSION_BUS_ADDRESS", a)
	}
	return errNoSessionBus
}

// sessionFileAddress reads a dbus-session file as godbus does
// (tryDiscoverDbusSessionBusAddress): the address after
// "DBUS_SESSION_BUS_ADDRESS=" at its very start, up to the end without
// trailing CR and LF. ok is false for anything that would leave godbus
// without an address or with an autolaunch one.
func sessionFileAddress(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return "", false
	}
	a, ok := strings.CutPrefix(string(b), "DBUS_SESSION_BUS_ADDRESS=")
	a = strings.TrimRight(a, "\n\r")
	if !ok || a == "" || strings.Contains(a, "autolaunch:") {
		return "", false
	}
	return a, true
}
