package apiclient

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// noGoRoots are the systems where Go's crypto/x509 reads neither
// SSL_CERT_FILE nor SSL_CERT_DIR (they verify through the system).
var noGoRoots = []string{"darwin", "ios", "windows", "plan9"}

// Trust describes how a server's certificate is checked with caFile and
// serverName (TLS.CACert, TLS.ServerName; the VAULT_CACERT and
// VAULT_TLS_SERVER_NAME of a client), in one comparable string that a
// login records: "ca=sha256:HEX" (of the CA file's contents) or
// "ca=system" (the system's roots; on Linux and the BSDs with
// "ssl_cert_file=sha256:HEX" and "ssl_cert_dir=PATH" when getenv has
// SSL_CERT_FILE or SSL_CERT_DIR, which Go reads for them), then
// "server_name=NAME" when serverName is set; space-separated. Two equal
// strings trust the same certificates for the same name (a directory's
// contents are not hashed, only its path). An error when the CA file
// cannot be read (an SSL_CERT_FILE that cannot be is "unreadable", as Go
// ignores it).
func Trust(caFile, serverName string, getenv func(string) string, goos string) (string, error) {
	hash := func(what, p string) (string, error) {
		h, err := hashFile(p)
		if err != nil {
			return "", fmt.Errorf("could not read the %s: %w", what, err)
		}
		return "sha256:" + h, nil
	}
	var parts []string
	if caFile != "" {
		h, err := hash("CA certificate", caFile)
		if err != nil {
			return "", err
		}
		parts = append(parts, "ca="+h)
	} else {
		parts = append(parts, "ca=system")
		if !slices.Contains(noGoRoots, goos) {
			if f := getenv("SSL_CERT_FILE"); f != "" {
				// Go ignores an SSL_CERT_FILE it cannot read.
				h, err := hash("SSL_CERT_FILE", f)
				if err != nil {
					h = "unreadable"
				}
				parts = append(parts, "ssl_cert_file="+h)
			}
			if d := getenv("SSL_CERT_DIR"); d != "" {
				parts = append(parts, "ssl_cert_dir="+d)
			}
		}
	}
	if serverName != "" {
		parts = append(parts, "server_name="+serverName)
	}
	return strings.Join(parts, " "), nil
}

// hashFile is the hex SHA-256 of the file at p, read through a 16 KiB
// buffer: `alilogin token` runs Trust on every call, and an SSL_CERT_FILE
// is often the system's whole bundle (220 KiB on Debian), which read at
// once into a new buffer costs the short-lived process fresh heap pages,
// page faults on each, more than the hashing.
func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 16<<10)
	for {
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
