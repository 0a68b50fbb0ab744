package clientcert

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/alisw/alilogin/internal/atomicfile"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/userdir"
)

// File names in a profile's directory.
const (
	CertFile = "cert.pem"
	KeyFile  = "key.pem"
	CAFile   = "ca.pem"
)

// Paths are the files of one profile's certificate.
type Paths struct {
	Dir, Cert, Key, CA string
}

// Dir is the private directory of profile's certificate files:
// $XDG_RUNTIME_DIR/alilogin/<profile> (a per-user tmpfs on Linux, gone at
// logout of the session), or, where there is no runtime directory (macOS,
// no systemd), <state dir>/run/<profile> (userdir.State). profile has
// passed the config's name check (no separators).
func Dir(getenv func(string) string, profile string) (string, error) {
	if rt := getenv("XDG_RUNTIME_DIR"); rt != "" && filepath.IsAbs(rt) {
		return filepath.Join(rt, "alilogin", profile), nil
	}
	st, err := userdir.State(getenv)
	if err != nil {
		return "", fmt.Errorf("could not find a directory for the client certificate: %w", err)
	}
	return filepath.Join(st, "run", profile), nil
}

// PathsIn names the files in dir.
func PathsIn(dir string) Paths {
	return Paths{Dir: dir, Cert: filepath.Join(dir, CertFile), Key: filepath.Join(dir, KeyFile), CA: filepath.Join(dir, CAFile)}
}

// privateDir makes dir (and its parent) 0700 and checks that it is a
// directory of ours, not a symlink, that nobody else can enter.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, d := range []string{filepath.Dir(dir), dir} {
		fi, err := os.Lstat(d)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", d)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(d, 0o700); err != nil {
				return err
			}
		}
		if err := checkOwner(fi); err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
	}
	return nil
}

// Write puts c's key, CA chain and certificate into dir (0700; files
// 0600, each replaced atomically) and records dir in c.Dir (kept with the
// record, so that logout finds the files whatever $XDG_RUNTIME_DIR is
// then). The certificate goes last: a CLI that reads the new certificate
// finds its key already there.
func Write(dir string, c *Cert) (Paths, error) {
	p := PathsIn(dir)
	if err := privateDir(dir); err != nil {
		return p, fmt.Errorf("could not make the client certificate's directory: %w", err)
	}
	for _, f := range []struct {
		path, data string
	}{{p.Key, c.Key.Reveal()}, {p.CA, c.ChainPEM}, {p.Cert, c.CertPEM}} {
		if err := atomicfile.Write(f.path, []byte(f.data)); err != nil {
			return p, fmt.Errorf("could not write %s: %w", f.path, err)
		}
	}
	c.Dir = dir
	return p, nil
}

// Present reports whether dir holds a certificate and its key.
func Present(dir string) bool {
	p := PathsIn(dir)
	for _, f := range []string{p.Cert, p.Key} {
		if fi, err := os.Lstat(f); err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return true
}

// Remove deletes the files of dir and dir itself; nothing there is fine.
func Remove(dir string) error {
	p := PathsIn(dir)
	var errs []error
	for _, f := range []string{p.Key, p.Cert, p.CA} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("could not delete the client certificate's files: %w", err)
	}
	return nil
}

// RemoveRecorded deletes the files of dir, a directory a record says its
// certificate was written to (Cert.Dir, possibly under another
// $XDG_RUNTIME_DIR than now), after checking that it is what Write
// makes: an absolute path to a directory (no symlink) of ours that nobody
// else can enter, holding nothing but our files (and Write's temporary
// ones). Anything else is left alone, with an error saying why.
func RemoveRecorded(dir string) error {
	if dir == "" {
		return nil
	}
	if !filepath.IsAbs(dir) || filepath.Clean(dir) != dir {
		return fmt.Errorf("could not delete the client certificate's files: %q is not a clean absolute path", dir)
	}
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil && (!fi.IsDir() || fi.Mode().Perm()&0o077 != 0) {
		err = errors.New("not a private directory")
	}
	if err == nil {
		err = checkOwner(fi)
	}
	if err == nil {
		var ents []fs.DirEntry
		ents, err = os.ReadDir(dir)
		for _, e := range ents {
			n := e.Name()
			ours := n == CertFile || n == KeyFile || n == CAFile ||
				strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".tmp") && e.Type().IsRegular()
			if !ours || !e.Type().IsRegular() {
				err = fmt.Errorf("it holds %q, which is not ours", n)
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("could not delete the client certificate's files in %s: %w", dir, err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return Remove(dir)
}

// Same reports whether the files p hold c (certificate and key).
func Same(p Paths, c *Cert) bool {
	cert, err := os.ReadFile(p.Cert)
	if err != nil || string(cert) != c.CertPEM {
		return false
	}
	key, err := os.ReadFile(p.Key)
	return err == nil && c.Key.Equal(secret.New(string(key)))
}
