package teststack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Keyring is a private D-Bus session bus with gnome-keyring-daemon serving
// the Secret Service on it, unlocked. While it runs, the test process's
// DBUS_SESSION_BUS_ADDRESS points at it, so go-keyring in the tests and in
// the programs they start uses it.
type Keyring struct {
	BusAddress string // DBUS_SESSION_BUS_ADDRESS
	oldBus     string
	hadOldBus  bool
}

// Env returns the variables a child process needs to reach this keyring.
func (k *Keyring) Env() []string { return []string{"DBUS_SESSION_BUS_ADDRESS=" + k.BusAddress} }

func (k *Keyring) restoreEnv() {
	if k.hadOldBus {
		os.Setenv("DBUS_SESSION_BUS_ADDRESS", k.oldBus)
	} else {
		os.Unsetenv("DBUS_SESSION_BUS_ADDRESS")
	}
}

func startKeyring(ctx context.Context, s *Stack) (*Keyring, error) {
	for _, b := range []string{"dbus-daemon", "gnome-keyring-daemon", "dbus-send"} {
		if _, err := exec.LookPath(b); err != nil {
			return nil, fmt.Errorf("%s not found; install the Debian packages dbus and gnome-keyring (make deps)", b)
		}
	}
	dir, err := os.MkdirTemp(s.dir, "keyring-")
	if err != nil {
		return nil, err
	}
	k := &Keyring{BusAddress: "unix:path=" + filepath.Join(dir, "bus")}
	k.oldBus, k.hadOldBus = os.LookupEnv("DBUS_SESSION_BUS_ADDRESS")
	bus, err := startProc("dbus-daemon", dir, "dbus-daemon", []string{"--session", "--nofork", "--nopidfile", "--address=" + k.BusAddress}, nil)
	if err != nil {
		return nil, err
	}
	s.add(bus)
	env := []string{"DBUS_SESSION_BUS_ADDRESS=" + k.BusAddress, "HOME=" + dir, "XDG_DATA_HOME=" + filepath.Join(dir, "data"), "XDG_RUNTIME_DIR=" + dir}
	err = bus.waitFor(ctx, "the bus socket", func(ctx context.Context) error {
		_, err := os.Stat(filepath.Join(dir, "bus"))
		return err
	})
	if err != nil {
		return nil, err
	}
	// --unlock reads the keyring password from stdin until EOF.
	gk := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	gk.Dir = dir
	gk.Env = append(os.Environ(), env...)
	gk.Stdin = strings.NewReader("alilogin-test-keyring")
	logf, err := os.Create(filepath.Join(dir, "gnome-keyring.log"))
	if err != nil {
		return nil, err
	}
	gk.Stdout, gk.Stderr = logf, logf
	gk.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := gk.Start(); err != nil {
		return nil, fmt.Errorf("could not start gnome-keyring-daemon: %w", err)
	}
	p := &proc{name: "gnome-keyring", cmd: gk, logPath: logf.Name(), logFile: logf, done: make(chan struct{})}
	go p.watch()
	s.add(p)
	err = p.waitFor(ctx, "org.freedesktop.secrets on the bus", func(ctx context.Context) error {
		out, err := runOut(ctx, env, "dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
			"org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets")
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		if !strings.Contains(out, "boolean true") {
			return errors.New("secrets service not registered yet")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	os.Setenv("DBUS_SESSION_BUS_ADDRESS", k.BusAddress)
	return k, nil
}
