package clientcert

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

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
// state directory). Neither may be a symlink, and both must be ours. The
// directory above them, the base (the runtime or state directory, the
// environment's choice), is resolved once (openBase): a symlink on its
// way must be ours or root's and sit in a directory nobody else can
// write (or a sticky one, /tmp), and the base itself must be ours or
// root's, writable by nobody else unless sticky, in a directory nobody
// else can rename it in. It is then opened as an os.Root, and every
// later step (the checks of our part, mkdir, writes, renames, removals)
// goes through that handle, never through the path again: a symlink
// swapped after the check changes nothing. So a directory someone else
// prepared (a shared XDG_RUNTIME_DIR=/tmp/runtime-$USER that is their
// symlink, or holds alilogin/<profile> -> the user's ~/nomad-tls) is
// refused, by Write and by the removals alike. The resolved path is
// what Write records (Cert.Dir, and the stored login's cert_dirs).

// maxLinks bounds the symlinks followed while resolving a base.
const maxLinks = 40

// othersCanReplace says why an entry of dir could be renamed or replaced
// by another user: dir is writable by others without the sticky bit.
// dir has no symlink in its path.
func othersCanReplace(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("%s is writable by others", dir)
	}
	return nil
}

// resolveBase resolves base, an absolute path, to one without symlinks,
// refusing a symlink on the way that another user (not root) owns or
// could replace. With create, missing directories are made (0700).
func resolveBase(base string, create bool) (string, error) {
	if !filepath.IsAbs(base) {
		return "", fmt.Errorf("%q is not an absolute path", base)
	}
	vol := filepath.VolumeName(base)
	cur := vol + string(filepath.Separator)
	todo := strings.Split(filepath.ToSlash(base[len(vol):]), "/")
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, c)
		fi, err := os.Lstat(next)
		if create && errors.Is(err, fs.ErrNotExist) {
			if err := os.Mkdir(next, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return "", err
			}
			fi, err = os.Lstat(next)
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("too many symlinks in %s", base)
		}
		if err := checkOwner(fi, true); err != nil {
			return "", fmt.Errorf("the symlink %s: %w", next, err)
		}
		if err := othersCanReplace(cur); err != nil {
			return "", fmt.Errorf("the symlink %s could be replaced: %w", next, err)
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			vol = filepath.VolumeName(target)
			cur = vol + string(filepath.Separator)
			target = target[len(vol):]
		}
		todo = append(strings.Split(filepath.ToSlash(target), "/"), todo...)
	}
	return cur, nil
}

// openBase resolves base (resolveBase), checks the result and opens it:
// every later step goes through the returned os.Root. The string is the
// resolved path.
func openBase(base string, create bool) (*os.Root, string, error) {
	real, err := resolveBase(base, create)
	if err != nil {
		return nil, "", err
	}
	if err := othersCanReplace(filepath.Dir(real)); err != nil {
		return nil, "", fmt.Errorf("%s could be replaced: %w", real, err)
	}
	r, err := os.OpenRoot(real)
	if err != nil {
		return nil, "", err
	}
	fi, err := r.Stat(".")
	if err == nil {
		err = checkOwner(fi, true)
		if err == nil && fi.Mode().Perm()&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
			err = errors.New("writable by others")
		}
	}
	if err != nil {
		r.Close()
		return nil, "", fmt.Errorf("%s: %w", real, err)
	}
	return r, real, nil
}

// checkOwner: fi is ours, or root's when root is set (where the system
// says whose a file is).
func checkOwner(fi fs.FileInfo, root bool) error {
	uid, known := userdir.Owner(fi)
	if known && uid != os.Getuid() && !(root && uid == 0) {
		return errors.New("owned by another user")
	}
	return nil
}

// ourDir checks that d, in r, is a directory (not a symlink) owned by us.
func ourDir(r *os.Root, d string) (fs.FileInfo, error) {
	fi, err := r.Lstat(d)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory (a symlink?)", d)
	}
	if err := checkOwner(fi, false); err != nil {
		return nil, fmt.Errorf("%s: %w", d, err)
	}
	return fi, nil
}

// certDir is a certificate directory opened for Write or Remove: the
// base's os.Root, our part of the path in it (sub: alilogin/<profile>),
// and the resolved path of the directory.
type certDir struct {
	root *os.Root
	sub  string
	path string
}

// openCertDir opens dir's base (openBase). dir is a clean absolute path.
func openCertDir(dir string, create bool) (*certDir, error) {
	if !filepath.IsAbs(dir) || filepath.Clean(dir) != dir {
		return nil, fmt.Errorf("%q is not a clean absolute path", dir)
	}
	parent := filepath.Dir(dir)
	r, real, err := openBase(filepath.Dir(parent), create)
	if err != nil {
		return nil, err
	}
	sub := filepath.Join(filepath.Base(parent), filepath.Base(dir))
	return &certDir{root: r, sub: sub, path: filepath.Join(real, sub)}, nil
}

// private makes our part of the path (0700), one element at a time,
// never through a symlink, and checks that both are directories of
// ours that nobody else can enter.
func (d *certDir) private() error {
	for _, p := range []string{filepath.Dir(d.sub), d.sub} {
		if err := d.root.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		fi, err := ourDir(d.root, p)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := d.root.Chmod(p, 0o700); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeFile replaces name in our directory with data (0600), atomically:
// a temporary file .<name>.<random>.tmp, synced, renamed over it.
func (d *certDir) writeFile(name, data string) (err error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	tmp := filepath.Join(d.sub, "."+name+"."+hex.EncodeToString(rnd[:])+".tmp")
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			_ = d.root.Remove(tmp)
		}
	}()
	if _, err := f.WriteString(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return d.root.Rename(tmp, filepath.Join(d.sub, name))
}

// Prepare makes dir as Write does and returns its resolved path (no
// symlinks: what Write records), after the checks Write makes. A caller
// that records the directory before writing records this, and only once
// the checks have passed.
func Prepare(dir string) (string, error) {
	d, err := openCertDir(dir, true)
	if err == nil {
		defer d.root.Close()
		err = d.private()
	}
	if err != nil {
		return "", fmt.Errorf("could not make the client certificate's directory: %w", err)
	}
	return d.path, nil
}

// Resolve is dir with its base resolved as Write resolves it (what
// Write records), after the same checks of the base; dir itself need
// not exist.
func Resolve(dir string) (string, error) {
	d, err := openCertDir(dir, false)
	if err != nil {
		return "", err
	}
	d.root.Close()
	return d.path, nil
}

// Write puts c's key, CA chain and certificate into dir (0700; files
// 0600, each replaced atomically) and records dir's resolved path in
// c.Dir (kept with the record, so that logout finds the files whatever
// $XDG_RUNTIME_DIR is then); the Paths returned are in the resolved
// path. The certificate goes last: a CLI that reads the new certificate
// finds its key already there.
func Write(dir string, c *Cert) (Paths, error) {
	d, err := openCertDir(dir, true)
	if err == nil {
		defer d.root.Close()
		err = d.private()
	}
	if err != nil {
		return PathsIn(dir), fmt.Errorf("could not make the client certificate's directory: %w", err)
	}
	p := PathsIn(d.path)
	for _, f := range []struct {
		name, data string
	}{{KeyFile, c.Key.Reveal()}, {CAFile, c.ChainPEM}, {CertFile, c.CertPEM}} {
		if err := d.writeFile(f.name, f.data); err != nil {
			return p, fmt.Errorf("could not write %s: %w", filepath.Join(d.path, f.name), err)
		}
	}
	c.Dir = d.path
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

// Remove deletes the files of dir, a certificate directory: the current
// environment's (Dir) or one a record says its certificate was written
// to (Cert.Dir, possibly under another $XDG_RUNTIME_DIR than now), after
// checking that it is what Write makes: an absolute path to a directory
// of ours that nobody else can enter, with no symlink in our part of the
// path and under a base resolved and opened as Write does (openBase),
// holding nothing but our files (and Write's temporary ones). Every step
// goes through the base's os.Root. Anything else is left alone, with an
// error saying why; nothing there is fine.
func Remove(dir string) error {
	if dir == "" {
		return nil
	}
	d, err := openCertDir(dir, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("could not delete the client certificate's files in %s: %w", dir, err)
	}
	defer d.root.Close()
	if _, err := d.root.Lstat(d.sub); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var ents []fs.DirEntry
	fi, err := ourDir(d.root, filepath.Dir(d.sub))
	if err == nil && fi.Mode().Perm()&0o022 != 0 {
		err = fmt.Errorf("%s is writable by others", filepath.Dir(d.sub))
	}
	if err == nil {
		if fi, err = ourDir(d.root, d.sub); err == nil && fi.Mode().Perm()&0o077 != 0 {
			err = errors.New("not a private directory")
		}
	}
	if err == nil {
		var f *os.File
		if f, err = d.root.Open(d.sub); err == nil {
			ents, err = f.ReadDir(-1)
			f.Close()
		}
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
	var errs []error
	for _, e := range ents {
		if err := d.root.Remove(filepath.Join(d.sub, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := d.root.Remove(d.sub); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("could not delete the client certificate's files: %w", err)
	}
	return nil
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
