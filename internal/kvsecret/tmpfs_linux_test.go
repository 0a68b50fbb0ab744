package kvsecret

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/alisw/alilogin/internal/secret"
)

// TestSecretFileOnTmpfsWithoutRuntimeDir: issue 13 asks for the
// --secret-file file "in a private directory on tmpfs where there is
// one". Without XDG_RUNTIME_DIR (SSH sessions without pam_systemd, CI
// containers, cron) the file goes to os.TempDir(), /tmp, which is often
// a disk: the secret is written to persistent storage although
// /dev/shm, a tmpfs, is there.
func TestSecretFileOnTmpfsWithoutRuntimeDir(t *testing.T) {
	var shm unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &shm); err != nil || shm.Type != unix.TMPFS_MAGIC {
		return // no tmpfs to prefer: nothing promised
	}
	t.Setenv("TMPDIR", "")
	base := BaseDir(func(string) string { return "" })
	f, err := WriteFiles(base, []Value{{Spec: Spec{Var: "NETRC", Path: "secret/x", Field: "f", File: true}, Value: secret.New("s3cret")}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	var st unix.Statfs_t
	if err := unix.Statfs(f.Paths["NETRC"], &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != unix.TMPFS_MAGIC {
		t.Errorf("the secret file %s is on a file system of type %#x, not tmpfs, although /dev/shm is a tmpfs", f.Paths["NETRC"], st.Type)
	}
	if _, err := os.Stat(f.Dir); err != nil {
		t.Fatal(err)
	}
}
