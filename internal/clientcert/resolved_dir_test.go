package clientcert

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/alisw/alilogin/internal/secret"
)

// TestWriteRecordsResolvedDir: a runtime directory reached through a
// symlink of the user's own is resolved once; the files are written
// there, and the directory recorded for logout (Cert.Dir) is the
// resolved one, with no symlink left to follow later.
func TestWriteRecordsResolvedDir(t *testing.T) {
	real := t.TempDir()
	link := filepath.Join(t.TempDir(), "run")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	c := &Cert{CertPEM: "cert\n", Key: secret.New("key\n"), ChainPEM: "ca\n"}
	p, err := Write(filepath.Join(link, "alilogin", "ci"), c)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(real, "alilogin", "ci")
	if c.Dir != want || p.Dir != want {
		t.Errorf("recorded %q, paths in %q; want %q", c.Dir, p.Dir, want)
	}
	if r, err := Resolve(filepath.Join(link, "alilogin", "ci")); err != nil || r != want {
		t.Errorf("Resolve: %q, %v; want %q", r, err, want)
	}
	if !Present(want) {
		t.Errorf("no files in %s", want)
	}
	if err := Remove(c.Dir); err != nil || Present(want) {
		t.Errorf("Remove(%s): %v, files left: %v", c.Dir, err, Present(want))
	}
}
