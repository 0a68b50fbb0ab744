package kvsecret

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/alisw/alilogin/internal/userdir"
)

// Files is a private directory holding the --secret-file values of one
// command; Remove deletes it with its files.
type Files struct {
	Dir   string
	Paths map[string]string // variable -> file
}

// BaseDir is where the private directory is made, the first of:
// $XDG_RUNTIME_DIR (a tmpfs only the user can enter) when it is set, a
// directory of the user and not open to others; /dev/shm when it is a
// tmpfs (Linux: memory, not disk, also without a login session's
// runtime directory); else the system's temporary directory. The
// directory made there is the user's alone (0700, a new random name).
func BaseDir(getenv func(string) string) string {
	if d := getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		if st, err := os.Stat(d); err == nil && st.IsDir() && st.Mode().Perm()&0o077 == 0 && mine(st) {
			return d
		}
	}
	if shm := "/dev/shm"; isTmpfs(shm) {
		return shm
	}
	return os.TempDir()
}

// mine: st is the user's (and the system says so: XDG_RUNTIME_DIR is a
// Linux and BSD notion).
func mine(st os.FileInfo) bool {
	uid, known := userdir.Owner(st)
	return known && uid == os.Getuid()
}

// WriteFiles makes a new 0700 directory under base and writes each value
// whose Spec is a file into its own 0600 file there (created exclusively: an
// existing file or link there is an error). On failure nothing is left behind.
func WriteFiles(base string, vals []Value) (f *Files, err error) {
	dir, err := os.MkdirTemp(base, "alilogin-secrets-")
	if err != nil {
		return nil, fmt.Errorf("could not create the secrets directory: %w", err)
	}
	f = &Files{Dir: dir, Paths: map[string]string{}}
	defer func() {
		if err != nil {
			f.Remove()
			f = nil
		}
	}()
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("could not create the secrets directory: %w", err)
	}
	for _, v := range vals {
		if !v.Spec.File {
			continue
		}
		p := filepath.Join(dir, v.Spec.Var)
		w, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("could not create the file for secret %s: %w", v.Spec.Var, err)
		}
		_, werr := w.WriteString(v.Value.Reveal())
		cerr := w.Close()
		if err := errors.Join(werr, cerr); err != nil {
			return nil, fmt.Errorf("could not write the file for secret %s: %w", v.Spec.Var, err)
		}
		f.Paths[v.Spec.Var] = p
	}
	return f, nil
}

// Remove deletes the directory and its files.
func (f *Files) Remove() error {
	if f == nil || f.Dir == "" {
		return nil
	}
	if err := os.RemoveAll(f.Dir); err != nil {
		return fmt.Errorf("could not remove the secrets directory %s: %w", f.Dir, err)
	}
	return nil
}
