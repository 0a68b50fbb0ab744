package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
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
	runUserRoot  = "/run/user"  // systemd-logind's runtime directories
	tmpDirPrefix = "alilogin-agent-"
)

// Dir is the agent's directory for the user uid: DirVar when set, else
// /run/user/UID when it exists, is owned by uid and has mode 0700 (what
// systemd-logind makes), else alilogin-agent-UID under os.TempDir(),
// made 0700 when missing. It never depends on XDG_RUNTIME_DIR, so that
// every shell of the user, whatever its environment, finds the same
// agent. The directory is checked: a real directory (no symlink), owned
// by uid, no access for group or others; anything else is an error, not
// a directory to use.
func Dir(getenv func(string) string, uid int) (string, error) {
	return dir(getenv, uid, true)
}

// ExistingDir is Dir when the directory exists, else ErrNotRunning: for
// a command that only talks to a running agent (logout), so that it
// makes no directory.
func ExistingDir(getenv func(string) string, uid int) (string, error) {
	return dir(getenv, uid, false)
}

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
	return ensureDir(filepath.Join(os.TempDir(), tmpDirPrefix+strconv.Itoa(uid)), uid, create)
}

// ensureDir makes d (mode 0700) when it is missing and create is set,
// and checks it.
func ensureDir(d string, uid int, create bool) (string, error) {
	if !create {
		if _, err := os.Lstat(d); errors.Is(err, fs.ErrNotExist) {
			return "", ErrNotRunning
		}
	}
	err := os.Mkdir(d, 0o700)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("could not make the agent directory %s: %w", d, err)
	}
	fi, err := os.Lstat(d)
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
	return checkOwner(fi, uid)
}
