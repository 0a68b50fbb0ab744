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
	"sync"

	"github.com/godbus/dbus/v5"
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

// errNoSecretService: there is a session bus, but nothing on it provides
// the Secret Service, and asking for it would make the bus start one.
var errNoSecretService = errors.New("no Secret Service on the session bus (nothing owns org.freedesktop.secrets)")

// secretServiceName is the Secret Service's bus name.
const secretServiceName = "org.freedesktop.secrets"

// ownedOn holds the session bus addresses on which the Secret Service
// had an owner: asked once per process and bus.
var ownedOn sync.Map

// secretService reports whether the Secret Service runs on the session
// bus. go-keyring's calls carry no NO_AUTO_START flag, so on a bus whose
// service directory knows org.freedesktop.secrets (Debian's gnome-keyring
// package installs one) the first call would activate
// gnome-keyring-daemon; alilogin never starts a keyring daemon, so it
// asks the bus first (NameHasOwner, which activates nothing), and without
// an owner the keyring is unavailable (the file store is used, with the
// usual notice). Only an owner is remembered: a daemon started later is
// found by the next call.
func secretService() error {
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if _, ok := ownedOn.Load(addr); ok {
		return nil
	}
	conn, err := dbus.SessionBusPrivateNoAutoStartup()
	if err != nil {
		return fmt.Errorf("could not connect to the session bus: %w", err)
	}
	defer conn.Close()
	if err := conn.Auth(nil); err != nil {
		return fmt.Errorf("could not authenticate to the session bus: %w", err)
	}
	if err := conn.Hello(); err != nil {
		return fmt.Errorf("could not greet the session bus: %w", err)
	}
	var owned bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", dbus.FlagNoAutoStart, secretServiceName).Store(&owned); err != nil {
		return fmt.Errorf("could not ask the session bus for the Secret Service: %w", err)
	}
	if !owned {
		return errNoSecretService
	}
	ownedOn.Store(addr, struct{}{})
	return nil
}

// keyringAbsent reports whether err says there is no keyring to hold an
// item at all (no session bus, no Secret Service on it), as opposed to a
// keyring that failed (a timeout, a dismissed unlock prompt, a D-Bus
// error), which may still hold one.
func keyringAbsent(err error) bool {
	return errors.Is(err, errNoSessionBus) || errors.Is(err, errNoSecretService)
}
