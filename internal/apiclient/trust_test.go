package apiclient

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// TestTrust: the description changes with the CA file's contents (not
// its path), the TLS server name, and, without a CA file, SSL_CERT_FILE's
// contents and SSL_CERT_DIR where Go reads them; an unreadable file is an
// error.
func TestTrust(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, a2, b := write("a.pem", "A"), write("a2.pem", "A"), write("b.pem", "B")
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	none := env(nil)
	tr := func(ca, sn string, getenv func(string) string, goos string) string {
		t.Helper()
		s, err := Trust(ca, sn, getenv, goos)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if tr(a, "", none, "linux") != tr(a2, "", none, "linux") {
		t.Errorf("the same CA contents in two files differ")
	}
	for _, c := range []struct{ what, x, y string }{
		{"CA contents", tr(a, "", none, "linux"), tr(b, "", none, "linux")},
		{"CA file or system", tr(a, "", none, "linux"), tr("", "", none, "linux")},
		{"server name", tr(a, "", none, "linux"), tr(a, "evil.example", none, "linux")},
		{"SSL_CERT_FILE", tr("", "", none, "linux"), tr("", "", env(map[string]string{"SSL_CERT_FILE": b}), "linux")},
		{"SSL_CERT_DIR", tr("", "", none, "linux"), tr("", "", env(map[string]string{"SSL_CERT_DIR": dir}), "linux")},
	} {
		if c.x == c.y {
			t.Errorf("%s: both %q", c.what, c.x)
		}
	}
	if tr(a, "", none, "linux") != tr(a, "", env(map[string]string{"SSL_CERT_FILE": b}), "linux") {
		t.Errorf("SSL_CERT_FILE counts with a CA file")
	}
	if tr("", "", none, "darwin") != tr("", "", env(map[string]string{"SSL_CERT_FILE": b}), "darwin") {
		t.Errorf("SSL_CERT_FILE counts on macOS")
	}
	if _, err := Trust(filepath.Join(dir, "none.pem"), "", none, "linux"); err == nil {
		t.Errorf("no error for a missing CA file")
	}
}

// TestTrustHashesTheWholeFile: a file read in pieces (larger than the
// read buffer, and one of its exact size) hashes to the SHA-256 of its
// whole contents, the form a login recorded before, so that a recorded
// trust still matches.
func TestTrustHashesTheWholeFile(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 16 << 10, 220<<10 + 7} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i * 7)
		}
		p := filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		want := "ca=sha256:" + hex.EncodeToString(sum[:])
		if got, err := Trust(p, "", func(string) string { return "" }, "linux"); err != nil || got != want {
			t.Errorf("%d bytes: Trust = %q, %v; want %q", n, got, err, want)
		}
	}
	if _, err := Trust(dir, "", func(string) string { return "" }, "linux"); err == nil {
		t.Errorf("a directory as the CA file: no error")
	}
}
