package store

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReviewSessionBusActivatesKeyringDaemon: with a session bus but no
// Secret Service running (an SSH session on a server with systemd's user
// bus at /run/user/<uid>/bus, a CI job under dbus-run-session), every
// keyring call asks the bus for org.freedesktop.secrets without
// NO_AUTO_START, so the bus activates gnome-keyring-daemon from
// /usr/share/dbus-1/services (Debian's org.freedesktop.secrets.service:
// gnome-keyring-daemon --start --foreground --components=secrets). The
// daemon then lives as long as the bus (with lingering, for good) and
// holds a fresh, possibly unlocked, login keyring. Issue item 14: "alilogin
// never starts a bus or a keyring daemon". Calls made only to find out
// whether a Secret Service is there should carry FlagNoAutoStart.
//
// Here the bus's service directory holds a stand-in service file whose
// Exec records that it was activated.
func TestReviewSessionBusActivatesKeyringDaemon(t *testing.T) {
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		skipOutsideCI(t, "no dbus-daemon")
	}
	dir := t.TempDir()
	svc, marker := filepath.Join(dir, "services"), filepath.Join(dir, "activated")
	if err := os.MkdirAll(svc, 0o700); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "fake-keyring-daemon")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$0 $*\" >> "+marker+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(svc, "org.freedesktop.secrets.service"),
		[]byte("[D-BUS Service]\nName=org.freedesktop.secrets\nExec="+script+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "session.conf")
	sock := filepath.Join(dir, "bus")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=%s</listen><servicedir>%s</servicedir>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`, sock, svc)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--print-address")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", strings.TrimSpace(addr))
	t.Setenv("XDG_RUNTIME_DIR", dir)

	_, gerr := NewKeyring(2*time.Second, 0).Get("ci")
	_, ok, ferr := FastKeyringGet(os.Getenv, "ci")
	t.Logf("Keyring.Get: %v; FastKeyringGet: ok=%v %v", gerr, ok, ferr)
	// Activation is synchronous: the bus answers a call only once the
	// activated service has started or failed, so the marker is written
	// by now if it ever is.
	if ue := (*UnavailableError)(nil); !errors.As(gerr, &ue) || !errors.Is(gerr, errNoSecretService) {
		t.Errorf("Keyring.Get = %v, want the keyring unavailable for want of a Secret Service", gerr)
	}
	if ok {
		t.Error("FastKeyringGet read a record without a Secret Service")
	}
	if b, err := os.ReadFile(marker); err == nil {
		t.Errorf("a keyring call activated the Secret Service daemon through the bus:\n%s", b)
	}
}
