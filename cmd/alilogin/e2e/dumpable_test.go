package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

// nobody is the uid alilogin runs as in TestNotDumpable when the tests run
// as root: root's own processes can read anything, so the flag would not
// show.
const nobody = 65534

// procOwner is the owner of /proc/<pid>/environ: the process's uid while it
// is dumpable, root once it is not (and then only root can read it).
func procOwner(t *testing.T, pid int) int {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join("/proc", strconv.Itoa(pid), "environ"), &st); err != nil {
		t.Fatal(err)
	}
	return int(st.Uid)
}

// TestNotDumpable: alilogin holds secrets in a process that the user's
// other processes cannot read (/proc/<pid>/environ, mem), attach to or
// dump; the program it runs with `exec` is an ordinary, dumpable process.
func TestNotDumpable(t *testing.T) {
	uid := os.Getuid()
	// The binary's directory is the test's own; let nobody run it.
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	home := testutil.ShortTempDir(t, "alilogin-nodump-", 0)
	u := newUser(t)
	u.home = home
	for k, v := range map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, ".config"),
		"XDG_STATE_HOME": filepath.Join(home, ".local", "state"), "XDG_RUNTIME_DIR": filepath.Join(home, "run"),
		"ALILOGIN_STORE": "file", "ALILOGIN_KERNEL_CACHE": "off", "ALILOGIN_PROFILE": "nodump"} {
		u.env[k] = v
	}
	delete(u.env, "DBUS_SESSION_BUS_ADDRESS")
	now := time.Now().UTC().Truncate(time.Second)
	tok := func(s string) *store.Token {
		return &store.Token{Secret: secret.New(s), Accessor: "acc-" + s, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	rec := &store.Record{Version: store.RecordVersion, Profile: "nodump", User: "x", Vault: tok("hvs.fake"), Nomad: tok("nomad-fake"), Consul: tok("consul-fake")}
	u.bound(t, rec)
	if err := store.NewFile(filepath.Join(u.env["XDG_STATE_HOME"], "alilogin", "records")).Put(rec); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(u.env["XDG_RUNTIME_DIR"], 0o700); err != nil {
		t.Fatal(err)
	}
	if uid == 0 {
		uid = nobody
		err := filepath.Walk(home, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, nobody, nobody)
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	start := func(args ...string) *proc {
		p := &proc{stdout: &teststack.SyncBuffer{}, stderr: &teststack.SyncBuffer{}, done: make(chan struct{})}
		p.cmd = exec.Command(bin, args...)
		p.cmd.Env = u.environ()
		p.cmd.Dir = home
		p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
		if uid != os.Getuid() {
			p.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
		}
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { p.err = p.cmd.Wait(); close(p.done) }()
		t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
		return p
	}

	// A login waiting for the browser: alilogin is running, past main.
	login := start("login", "--no-browser", "--listen", "127.0.0.1:0")
	login.waitLine(t, urlLine, time.Minute)
	if got := procOwner(t, login.cmd.Process.Pid); got != 0 {
		t.Errorf("alilogin (uid %d) is dumpable: its /proc/<pid>/environ belongs to uid %d, want root", uid, got)
	}

	// exec replaces alilogin with the command (execve), which is an
	// ordinary process again.
	p := start("exec", "--", "sh", "-c", `echo "child $$" >&2; exec sleep 600`)
	child, err := strconv.Atoi(p.waitLine(t, regexp.MustCompile(`child (\d+)`), time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if child != p.cmd.Process.Pid {
		t.Logf("alilogin exec ran the command as a child (%d, alilogin %d)", child, p.cmd.Process.Pid)
	}
	if got := procOwner(t, child); got != uid {
		t.Errorf("the program alilogin exec runs is not dumpable: its /proc/<pid>/environ belongs to uid %d, want %d", got, uid)
	}
	if err := syscall.Kill(child, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, err := p.wait(time.Minute); err != nil {
		t.Error(err)
	}
}
