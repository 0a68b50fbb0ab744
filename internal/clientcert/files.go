package clientcert

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
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
	return stateDir(getenv, profile)
}

// stateDir is <state dir>/run/<profile>, where Dir puts the files
// without a runtime directory.
func stateDir(getenv func(string) string, profile string) (string, error) {
	st, err := userdir.State(getenv)
	if err != nil {
		return "", fmt.Errorf("could not find a directory for the client certificate: %w", err)
	}
	return filepath.Join(st, "run", profile), nil
}

// EnvDirs are the directories where an alilogin run in this environment
// may have written profile's files: Dir's choice, and the state
// directory's run/<profile> (where the same user's cron jobs and ssh
// sessions, which have no XDG_RUNTIME_DIR, write them, and an earlier
// alilogin did without recording it). Logout removes the files in each,
// besides those its record names (store.Record.CertFileDirs).
func EnvDirs(getenv func(string) string, profile string) []string {
	var out []string
	for _, f := range []func(func(string) string, string) (string, error){Dir, stateDir} {
		if d, err := f(getenv, profile); err == nil && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// PathsIn names the files in dir.
func PathsIn(dir string) Paths {
	return Paths{Dir: dir, Cert: filepath.Join(dir, CertFile), Key: filepath.Join(dir, KeyFile), CA: filepath.Join(dir, CAFile)}
}

// Our part of a certificate directory's path is its last two elements
// (alilogin/<profile> under $XDG_RUNTIME_DIR, run/<profile> under the
// state directory). Neither may be a symlink, and both must be ours; the
// directory above them (the runtime or state directory, the
// environment's choice, symlinks allowed) must be one nobody else can
// rename them in: owned by us or root, and writable by nobody else
// unless sticky (/tmp). So a directory someone else prepared (a shared
// XDG_RUNTIME_DIR=/tmp/runtime-$USER holding alilogin/<profile> -> the
// user's ~/nomad-tls) is refused, by Write and by the removals alike,
// and cannot be swapped after the check.

// checkBase checks the directory above our part of the path.
func checkBase(base string) error {
	fi, err := os.Stat(base)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", base)
	}
	if err := checkOwnerOrRoot(fi); err != nil {
		return fmt.Errorf("%s: %w", base, err)
	}
	if fi.Mode().Perm()&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("%s is writable by others", base)
	}
	return nil
}

// ourDir checks that d is a directory (not a symlink) owned by us.
func ourDir(d string) (fs.FileInfo, error) {
	fi, err := os.Lstat(d)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory (a symlink?)", d)
	}
	if err := checkOwner(fi); err != nil {
		return nil, fmt.Errorf("%s: %w", d, err)
	}
	return fi, nil
}

// privateDir makes dir (and its parent) 0700, one element at a time,
// never through a symlink, and checks that both are directories of
// ours that nobody else can enter, under a base nobody else can rename
// them in.
func privateDir(dir string) error {
	parent := filepath.Dir(dir)
	base := filepath.Dir(parent)
	if err := os.MkdirAll(base, 0o700); err != nil {
		return err
	}
	if err := checkBase(base); err != nil {
		return err
	}
	for _, d := range []string{parent, dir} {
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		fi, err := ourDir(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(d, 0o700); err != nil {
				return err
			}
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

// remove deletes the files of dir and dir itself; nothing there is fine.
func remove(dir string) error {
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

// Remove deletes the files of dir, a certificate directory: the current
// environment's (Dir) or one a record says its certificate was written
// to (Cert.Dir, possibly under another $XDG_RUNTIME_DIR than now), after
// checking that it is what Write makes: an absolute path to a directory
// of ours that nobody else can enter, with no symlink in our part of the
// path and under a base nobody else can rename it in (privateDir),
// holding nothing but our files (and Write's temporary ones). Anything
// else is left alone, with an error saying why; nothing there is fine.
func Remove(dir string) error {
	if dir == "" {
		return nil
	}
	if !filepath.IsAbs(dir) || filepath.Clean(dir) != dir {
		return fmt.Errorf("could not delete the client certificate's files: %q is not a clean absolute path", dir)
	}
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	parent := filepath.Dir(dir)
	err := checkBase(filepath.Dir(parent))
	if err == nil {
		var fi fs.FileInfo
		if fi, err = ourDir(parent); err == nil && fi.Mode().Perm()&0o022 != 0 {
			err = fmt.Errorf("%s is writable by others", parent)
		}
	}
	if err == nil {
		var fi fs.FileInfo
		if fi, err = ourDir(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
			err = errors.New("not a private directory")
		}
	}
	if err == nil {
		var ents []fs.DirEntry
		ents, err = os.ReadDir(dir)
		for _, e := range ents {
			n := e.Name()
			ours := n == CertFile || n == KeyFile || n == CAFile ||
				strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".tmp")
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
	return remove(dir)
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
