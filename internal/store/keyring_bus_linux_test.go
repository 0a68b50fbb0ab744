package store

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// TestKeyringStartsNoBus: with no session bus, the keyring is unavailable
// and nothing is started. A dbus-launch on PATH records whether the D-Bus
// library tried to autolaunch a bus (which would then start
// gnome-keyring-daemon, both outliving alilogin).
func TestKeyringStartsNoBus(t *testing.T) {
	bin, run := t.TempDir(), t.TempDir()
	marker := filepath.Join(bin, "launched")
	script := "#!/bin/sh\necho \"$0 $*\" >> " + marker + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", run)
	k := NewKeyring(0, 0)
	_, err := k.Get("ci")
	var ue *UnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, errNoSessionBus) {
		t.Errorf("Get = %v, want the keyring unavailable for want of a bus", err)
	}
	if err := k.Put(&Record{Profile: "ci"}); !errors.As(err, &ue) {
		t.Errorf("Put = %v", err)
	}
	if err := k.Delete("ci"); !errors.As(err, &ue) {
		t.Errorf("Delete = %v", err)
	}
	// A plain file named bus is no bus either, for the fast paths too.
	if err := os.WriteFile(filepath.Join(run, "bus"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if FastKeyringUpdate(os.Getenv, &Record{Profile: "ci"}) {
		t.Error("FastKeyringUpdate wrote without a bus")
	}
	if _, ok, _ := FastKeyringGet(os.Getenv, "ci"); ok {
		t.Error("FastKeyringGet read without a bus")
	}
	if b, err := os.ReadFile(marker); err == nil {
		t.Errorf("the keyring started a session bus: %s", b)
	}

	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "autolaunch:")
	if _, err := k.Get("ci"); !errors.Is(err, errNoSessionBus) {
		t.Errorf("with autolaunch: Get = %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the keyring autolaunched a session bus")
	}
}

// TestSessionBusInRuntimeDir: the bus socket in $XDG_RUNTIME_DIR is used
// (the D-Bus library itself only looks in /run/user/<uid>).
func TestSessionBusInRuntimeDir(t *testing.T) {
	run := t.TempDir()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", run)
	if err := os.WriteFile(filepath.Join(run, "bus"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := sessionBus(os.Getenv); !errors.Is(err, errNoSessionBus) {
		t.Errorf("a plain file named bus: %v", err)
	}
	os.Remove(filepath.Join(run, "bus"))
	l, err := net.Listen("unix", filepath.Join(run, "bus"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := sessionBus(os.Getenv); err != nil {
		t.Fatal(err)
	}
	if got, want := os.Getenv("DBUS_SESSION_BUS_ADDRESS"), "unix:path="+filepath.Join(run, "bus"); got != want {
		t.Errorf("DBUS_SESSION_BUS_ADDRESS = %q, want %q", got, want)
	}
}

// TestSessionFileAddress: a dbus-session file counts only as godbus reads
// it; anything else would make it autolaunch a bus.
func TestSessionFileAddress(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
		ok                  bool
	}{
		{"address", "DBUS_SESSION_BUS_ADDRESS=unix:abstract=/tmp/dbus-E1c73yNqrG\n", "unix:abstract=/tmp/dbus-E1c73yNqrG", true},
		{"crlf", "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/x\r\n", "unix:path=/run/x", true},
		{"empty file", "", "", false},
		{"empty address", "DBUS_SESSION_BUS_ADDRESS=\n", "", false},
		{"autolaunch", "DBUS_SESSION_BUS_ADDRESS=autolaunch:\n", "", false},
		{"other format", "unix:path=/run/x\n", "", false},
		{"leading space", " DBUS_SESSION_BUS_ADDRESS=unix:path=/run/x\n", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "dbus-session")
			if err := os.WriteFile(p, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if got, ok := sessionFileAddress(p); got != tc.want || ok != tc.ok {
				t.Errorf("sessionFileAddress = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	if _, ok := sessionFileAddress(filepath.Join(t.TempDir(), "missing")); ok {
		t.Error("a missing file gave an address")
	}
}
