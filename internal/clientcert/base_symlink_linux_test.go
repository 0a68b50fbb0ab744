package clientcert

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/testutil"
)

// swappedBase is another user (uid 65534) who made the victim's
// XDG_RUNTIME_DIR (links/runtime-victim, the fallback a shared host
// leaves to anyone) a symlink of theirs and flips it, from their own
// process, between the victim's real runtime directory (root's, 0755:
// it passes every check) and a tree of theirs whose alilogin/ci is a
// symlink to a directory of the victim's (project) that has nothing to do
// with alilogin. links is /tmp-like (sticky) where
// fs.protected_symlinks=0; where it is 1 the kernel would not follow
// another user's symlink in a sticky world-writable directory, so links
// is world-writable without the sticky bit, where it does.
type swappedBase struct {
	dir     string // the victim's certificate directory through the symlink
	real    string // the same directory, through the real runtime directory
	project string
}

func newSwappedBase(t *testing.T) *swappedBase {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("this test runs a process as another uid and needs root; CI runs as root")
		}
		t.Skip("needs root to run a process as another uid (in CI, with CI=true, this fails)")
	}
	top := testutil.ShortTempDir(t, "certdir-swap-", 0o755)
	mode := os.FileMode(0o777)
	if b, _ := os.ReadFile("/proc/sys/fs/protected_symlinks"); strings.TrimSpace(string(b)) == "0" {
		mode |= os.ModeSticky
	}
	links, runtime := filepath.Join(top, "links"), filepath.Join(top, "run")
	project := filepath.Join(top, "victim-home", "project", "tls")
	for _, d := range []string{links, runtime, project} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(links, mode); err != nil {
		t.Fatal(err)
	}
	script := `
set -e
cd "$LINKS"
mkdir -p evil/alilogin
ln -s "$PROJECT" evil/alilogin/ci
ln -s "$RUNTIME" runtime-victim
exec perl -e '
  $| = 1; print "ready\n";
  for (;;) {
    symlink($ENV{RUNTIME}, "t1"); rename("t1", "runtime-victim");
    symlink("$ENV{LINKS}/evil", "t2"); rename("t2", "runtime-victim");
  }'
`
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c", script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LINKS=" + links, "RUNTIME=" + runtime, "PROJECT=" + project}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	return &swappedBase{dir: filepath.Join(links, "runtime-victim", "alilogin", "ci"),
		real: filepath.Join(runtime, "alilogin", "ci"), project: project}
}

// TestWriteRefusesAnotherUsersSymlinkedBase: env or exec writing the
// certificate's files where the runtime directory is another user's
// symlink, which they flip between the check and the writes, is refused,
// and never replaces a file of the victim's elsewhere.
func TestWriteRefusesAnotherUsersSymlinkedBase(t *testing.T) {
	sb := newSwappedBase(t)
	if err := os.WriteFile(filepath.Join(sb.project, "key.pem"), []byte("victim's own key"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &Cert{CertPEM: "alilogin cert\n", Key: secret.New("alilogin key\n"), ChainPEM: "alilogin ca\n"}
	for tries, deadline := 1, time.Now().Add(10*time.Second); time.Now().Before(deadline); tries++ {
		if _, err := Write(sb.dir, c); err == nil {
			t.Fatalf("Write(%s) through another user's symlink passed its checks (try %d)", sb.dir, tries)
		}
		if b, _ := os.ReadFile(filepath.Join(sb.project, "key.pem")); string(b) != "victim's own key" {
			t.Fatalf("after %d writes: Write(%s) replaced the victim's %s/key.pem with %q", tries, sb.dir, sb.project, b)
		}
	}
}

// TestRemoveRefusesAnotherUsersSymlinkedBase: logout removing a recorded
// certificate directory whose runtime directory is another user's
// symlink, which they flip between the checks and the removals, is
// refused, and never deletes a file of the victim's elsewhere.
func TestRemoveRefusesAnotherUsersSymlinkedBase(t *testing.T) {
	sb := newSwappedBase(t)
	for _, f := range []string{"key.pem", "cert.pem", "ca.pem", "build.tmp"} {
		if err := os.WriteFile(filepath.Join(sb.project, f), []byte("victim's own "+f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c := &Cert{CertPEM: "cert\n", Key: secret.New("key\n"), ChainPEM: "ca\n"}
	if _, err := Write(sb.real, c); err != nil {
		t.Fatal(err)
	}
	for tries, deadline := 1, time.Now().Add(10*time.Second); time.Now().Before(deadline); tries++ {
		err := Remove(sb.dir) // logout, for that cert_dirs entry
		if left, _ := os.ReadDir(sb.project); len(left) < 4 {
			t.Fatalf("after %d logouts: Remove(%s) deleted files of the victim's %s, which now holds %d of 4", tries, sb.dir, sb.project, len(left))
		}
		if err == nil {
			t.Fatalf("Remove(%s) through another user's symlink passed its checks (try %d)", sb.dir, tries)
		}
		if !Present(sb.real) {
			if _, err := Write(sb.real, c); err != nil {
				t.Fatal(err)
			}
		}
	}
}
