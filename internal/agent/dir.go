package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/atomicfile"
	"github.com/alisw/alilogin/internal/filelock"
	"github.com/alisw/alilogin/internal/userdir"
)

// DirVar names another agent directory than the one derived from the
// uid: for tests, and for a user who wants agents apart on purpose (a
// logout reaches only the agent of its own directory).
const DirVar = "ALILOGIN_AGENT_DIR"

// The files of the agent directory.
const (
	SocketName   = "agent.sock" // the control socket
	lockName     = "agent.lock" // held by the running agent
	InstanceName = "instance"   // the running agent's instance id
	AuditName    = "audit.log"  // the audit log (audit.go)
	LogName      = "agent.log"  // stderr of an agent started on demand
	genSuffix    = ".gates"     // per profile: changes when its gates die
	tmpDirPrefix = "alilogin-agent-"
)

// Dir is the agent's directory for the user uid: DirVar when set, else
// /run/user/UID/alilogin-agent when /run/user/UID exists, is owned by uid
// and has mode 0700 (what systemd-logind makes), else the directory that
// the user's pointer file names (fallbackDir). It never depends on
// XDG_RUNTIME_DIR, so that every shell of the user, whatever its
// environment, finds the same agent. The directory is checked: a real
// directory (no symlink), owned by uid, no access for group or others;
// anything else is an error, not a directory to use.
func Dir(getenv func(string) string, uid int) (string, error) {
	return dir(getenv, uid, true)
}

// ExistingDir is Dir when the directory exists, else ErrNotRunning: for
// a command that only talks to a running agent (logout), so that it
// makes no directory.
func ExistingDir(getenv func(string) string, uid int) (string, error) {
	return dir(getenv, uid, false)
}

// runUserRoot is systemd-logind's root of runtime directories (a
// variable for the tests of hosts without it).
var runUserRoot = "/run/user"

func dir(getenv func(string) string, uid int, create bool) (string, error) {
	if d := getenv(DirVar); d != "" {
		if !filepath.IsAbs(d) {
			return "", fmt.Errorf("could not use the agent directory %s: %s must be an absolute path", d, DirVar)
		}
		return ensureDir(d, uid, create)
	}
	run := filepath.Join(runUserRoot, strconv.Itoa(uid))
	if fi, err := os.Lstat(run); err == nil && checkDir(fi, uid) == nil {
		d := filepath.Join(run, "alilogin-agent")
		return ensureDir(d, uid, create)
	}
	return fallbackDir(getenv, uid, create)
}

// lookupHome is uid's home directory in the user database, "" when
// none is found (a variable for the tests).
var lookupHome = func(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && filepath.IsAbs(u.HomeDir) {
		return u.HomeDir
	}
	return ""
}

// fallbackDir is the agent directory where there is no /run/user/UID
// (no systemd-logind session: ssh without pam_systemd, containers, batch
// nodes; macOS): a directory of a random name under os.TempDir(), made
// 0700 by the user, named in a pointer file under the user's home
// (~/.local/state/alilogin/agent-dir.HOST: each host of a shared home has
// its own), so that every shell of the user finds the same one whatever
// its TMPDIR. Another user can neither guess the name before it is made
// nor take it after: when the named directory is gone (a reboot, a /tmp
// cleaner) and another user made one of that name, or the pointer is
// missing, a new random directory is made and the pointer rewritten,
// under a lock. The home is the user database's (else $HOME), not the
// environment's runtime or state directory.
func fallbackDir(getenv func(string) string, uid int, create bool) (string, error) {
	home := lookupHome(uid)
	if home == "" {
		home = getenv("HOME")
	}
	if home == "" || !filepath.IsAbs(home) {
		return "", fmt.Errorf("could not find the agent directory: no /run/user/%d and no home directory; set %s", uid, DirVar)
	}
	host, err := os.Hostname()
	if err != nil || host == "" || strings.ContainsAny(host, "/\\") {
		host = "localhost"
	}
	state := filepath.Join(home, ".local", "state", "alilogin")
	pointer := filepath.Join(state, "agent-dir."+host)
	named := func() (string, bool) {
		b, err := atomicfile.ReadSmall(pointer, 4096)
		d := strings.TrimSpace(string(b))
		if err != nil || !filepath.IsAbs(d) || !strings.HasPrefix(filepath.Base(d), tmpDirPrefix) {
			return "", false
		}
		return d, true
	}
	if !create {
		d, ok := named()
		if !ok {
			return "", ErrNotRunning
		}
		// Missing: no agent (ErrNotRunning). There but not the user's
		// (a /tmp cleaner removed it and another user took its name):
		// an agent of the user that may still run cannot be reached
		// there, which is said (a logout warns), not taken for none.
		return ensureDir(d, uid, false)
	}
	if err := os.MkdirAll(state, 0o700); err != nil {
		return "", fmt.Errorf("could not make the agent's pointer directory %s: %w", state, err)
	}
	lock, err := filelock.Acquire(context.Background(), pointer+".lock", 10*time.Second, 20*time.Millisecond, nil)
	if err != nil {
		return "", fmt.Errorf("could not lock the agent's pointer file %s: %w", pointer, err)
	}
	defer lock.Release()
	if d, ok := named(); ok {
		if d, err := ensureDir(d, uid, true); err == nil {
			return d, nil
		}
	}
	d, err := os.MkdirTemp(os.TempDir(), tmpDirPrefix+strconv.Itoa(uid)+"-")
	if err != nil {
		return "", fmt.Errorf("could not make the agent directory: %w", err)
	}
	if len(filepath.Join(d, SocketName)) >= maxSocketPath {
		os.Remove(d)
		if d, err = os.MkdirTemp("/tmp", tmpDirPrefix+strconv.Itoa(uid)+"-"); err != nil {
			return "", fmt.Errorf("could not make the agent directory: %w", err)
		}
	}
	if d, err = ensureDir(d, uid, false); err != nil {
		return "", err
	}
	if err := atomicfile.Write(pointer, []byte(d+"\n")); err != nil {
		return "", fmt.Errorf("could not write the agent's pointer file: %w", err)
	}
	return d, nil
}

// maxSocketPath bounds a UNIX socket's path (sun_path: 108 bytes on
// Linux, 104 on macOS, with its NUL).
const maxSocketPath = 104

// ensureDir makes d (mode 0700) when it is missing and create is set,
// and checks it; without create, a missing d is ErrNotRunning and
// nothing is made.
func ensureDir(d string, uid int, create bool) (string, error) {
	if create {
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("could not make the agent directory %s: %w", d, err)
		}
	}
	fi, err := os.Lstat(d)
	if !create && errors.Is(err, fs.ErrNotExist) {
		return "", ErrNotRunning
	}
	if err != nil {
		return "", fmt.Errorf("could not use the agent directory %s: %w", d, err)
	}
	if err := checkDir(fi, uid); err != nil {
		return "", fmt.Errorf("could not use the agent directory %s: %w", d, err)
	}
	return d, nil
}

// checkDir: a directory, no symlink, owned by uid, mode 0700 (no group
// or other bits at all).
func checkDir(fi fs.FileInfo, uid int) error {
	if fi.Mode()&fs.ModeSymlink != 0 || !fi.IsDir() {
		return errors.New("not a directory")
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("its mode is %#o, want 0700", fi.Mode().Perm())
	}
	switch owner, known := userdir.Owner(fi); {
	case !known:
		return ErrUnsupported
	case owner != uid:
		return fmt.Errorf("it belongs to uid %d, not %d", owner, uid)
	}
	return nil
}
