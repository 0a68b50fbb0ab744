package clientcert

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
)

// TestWriteRefusesPreparedDir: Write never follows a symlink in
// our part of the path (alilogin/<profile>), nor writes under a base
// directory others can write (no sticky bit), where our directory could
// be swapped for a symlink after the check; Remove leaves such places
// alone too.
func TestWriteRefusesPreparedDir(t *testing.T) {
	c := &Cert{CertPEM: "cert\n", Key: secret.New("key\n"), ChainPEM: "ca\n"}
	victim := t.TempDir()

	// alilogin/<profile> is a symlink to the user's own directory.
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "alilogin"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(base, "alilogin", "ci")); err != nil {
		t.Fatal(err)
	}
	// alilogin itself is a symlink.
	base2 := t.TempDir()
	if err := os.Symlink(victim, filepath.Join(base2, "alilogin")); err != nil {
		t.Fatal(err)
	}
	// The base is writable by others, without the sticky bit.
	base3 := t.TempDir()
	if err := os.Chmod(base3, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(base, "alilogin", "ci"), filepath.Join(base2, "alilogin", "ci"), filepath.Join(base3, "alilogin", "ci")} {
		if _, err := Write(dir, c); err == nil {
			t.Errorf("Write(%s) wrote through a place someone else prepared", dir)
		}
		if err := Remove(dir); err == nil {
			if _, serr := os.Lstat(dir); serr == nil {
				t.Errorf("Remove(%s) gave no error and left it", dir)
			}
		}
	}
	if ents, _ := os.ReadDir(victim); len(ents) != 0 {
		t.Errorf("files written into the symlink's target: %v", ents)
	}
	// A sticky base writable by others (/tmp) is fine.
	if err := os.Chmod(base3, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base3, "alilogin", "ci")
	if _, err := Write(dir, c); err != nil {
		t.Fatalf("Write under a sticky base: %v", err)
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("Remove left %s: %v", dir, err)
	}
}

// TestCertFreshMargin: a certificate whose whole life is shorter than
// the margin is fresh for half of it; a long one by the margin; one with
// no IssuedAt (an older record) by the margin.
func TestCertFreshMargin(t *testing.T) {
	now := time.Now()
	short := &Cert{IssuedAt: now, NotAfter: now.Add(5 * time.Minute)}
	if !short.Fresh(now, 5*time.Minute) || !short.Fresh(now.Add(2*time.Minute), 5*time.Minute) {
		t.Error("a just signed 5m certificate is not fresh for a 5m margin")
	}
	if short.Fresh(now.Add(3*time.Minute), 5*time.Minute) {
		t.Error("a 5m certificate past half its life is fresh")
	}
	long := &Cert{IssuedAt: now, NotAfter: now.Add(time.Hour)}
	if !long.Fresh(now.Add(50*time.Minute), 5*time.Minute) || long.Fresh(now.Add(56*time.Minute), 5*time.Minute) {
		t.Error("a 1h certificate is not judged by the margin")
	}
	old := &Cert{NotAfter: now.Add(5 * time.Minute)}
	if old.Fresh(now, 5*time.Minute) {
		t.Error("a record without IssuedAt is fresh within the margin")
	}
	var none *Cert
	if none.Fresh(now, 0) {
		t.Error("nil is fresh")
	}
}
