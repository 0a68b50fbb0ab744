package clientcert

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	d, err := Dir(env(map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000", "HOME": "/home/a"}), "ci-user")
	if err != nil || d != "/run/user/1000/alilogin/ci-user" {
		t.Errorf("with a runtime dir: %q, %v", d, err)
	}
	d, err = Dir(env(map[string]string{"XDG_RUNTIME_DIR": "relative", "XDG_STATE_HOME": "/st", "HOME": "/home/a"}), "ci-user")
	if err != nil || !strings.HasSuffix(d, filepath.Join("alilogin", "run", "ci-user")) {
		t.Errorf("fallback: %q, %v", d, err)
	}
}

func TestCSRAndFiles(t *testing.T) {
	keyPEM, k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(keyPEM.String(), "PRIVATE") {
		t.Errorf("the key prints itself: %s", keyPEM)
	}
	csrPEM, err := CSR(k, "alice")
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode([]byte(csrPEM))
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil || csr.Subject.CommonName != "alice" || len(csr.DNSNames)+len(csr.EmailAddresses)+len(csr.IPAddresses)+len(csr.URIs) != 0 {
		t.Fatalf("csr %+v, %v; want CN alice and no other name", csr, err)
	}

	rt := t.TempDir()
	if err := os.Chmod(rt, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(rt, "alilogin", "p")
	c := &Cert{CertPEM: "cert\n", ChainPEM: "ca\n", Key: keyPEM, NotAfter: time.Now().Add(time.Hour)}
	p, err := Write(dir, c)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v; want 0700", d, fi.Mode(), err)
		}
	}
	for _, f := range []string{p.Cert, p.Key, p.CA} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v; want 0600", f, err)
		}
	}
	if b, _ := os.ReadFile(p.Key); string(b) != keyPEM.Reveal() || !Present(dir) {
		t.Errorf("key file differs or not present")
	}
	// A wider directory made by someone else's umask is narrowed again.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir, c); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory left %v", fi.Mode())
	}
	// A symlink in place of the directory is refused.
	link := filepath.Join(rt, "alilogin", "q")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(link, c); err == nil {
		t.Errorf("wrote through a symlinked directory")
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) || Present(dir) {
		t.Errorf("files left after Remove: %v", err)
	}
	if err := Remove(dir); err != nil {
		t.Errorf("second Remove: %v", err)
	}
}
