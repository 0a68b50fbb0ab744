package tokenhelper

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/alisw/alilogin/internal/userdir"
)

// Binary is the alilogin binary that the helper script runs: this
// process's executable, symbolic links resolved. It is the one place
// that decides which binary that is (setup writes its path into the
// script), and it refuses one that others could replace, by the rules
// WriteScript applies to the script's own place: whoever can replace the
// binary runs code as the user every time the vault CLI asks for a token,
// and chooses the token it sends.
func Binary() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("could not find the alilogin binary: %w", err)
	}
	return binaryAt(self, mineOrRoot)
}

// binaryAt resolves exe and checks it: a regular file owned by the user
// or root (trusted) and writable by neither group nor others, in a
// directory owned by the user or root and writable by neither group nor
// others (root's /usr/bin, the user's ~/bin), with no directory above
// it, up to /, that group or others may write unless it is sticky and
// owned by the user or root (as /tmp): whoever may rename an entry there
// swaps the whole subtree, binary included.
func binaryAt(exe string, trusted func(os.FileInfo) bool) (string, error) {
	real, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return "", fmt.Errorf("could not find the alilogin binary: %w", err)
	}
	if real, err = filepath.Abs(real); err != nil {
		return "", fmt.Errorf("could not find the alilogin binary: %w", err)
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("could not check the alilogin binary: %w", err)
	}
	switch {
	case !st.Mode().IsRegular():
		return "", fmt.Errorf("could not set up the token helper: the alilogin binary %s is not a regular file", real)
	case !trusted(st):
		return "", fmt.Errorf("could not set up the token helper: the alilogin binary %s is owned by another user, who could replace the program the vault CLI runs for every token; install alilogin in a directory of yours or root's", real)
	case st.Mode().Perm()&0o022 != 0:
		return "", fmt.Errorf("could not set up the token helper: the alilogin binary %s (mode %v) is writable by group or others, who could replace the program the vault CLI runs for every token; run: chmod go-w %s", real, st.Mode().Perm(), real)
	}
	dir := filepath.Dir(real)
	dst, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("could not check %s: %w", dir, err)
	}
	switch {
	case !trusted(dst):
		return "", fmt.Errorf("could not set up the token helper: %s, the directory of the alilogin binary, is owned by another user, who could replace the program the vault CLI runs for every token; install alilogin in a directory of yours or root's", dir)
	case dst.Mode().Perm()&0o022 != 0:
		return "", fmt.Errorf("could not set up the token helper: %s (mode %v), the directory of the alilogin binary, is writable by group or others, who could replace the program the vault CLI runs for every token; run: chmod go-w %s, or install alilogin elsewhere", dir, dst.Mode().Perm(), dir)
	}
	if err := aboveSafe(dir, trusted, "the alilogin binary"); err != nil {
		return "", err
	}
	return real, nil
}

// aboveSafe checks every directory above dir (symbolic links resolved)
// for what, the file there that the vault CLI runs: none may be
// writable by group or others unless it is sticky and owned by the user
// or root (trusted).
func aboveSafe(dir string, trusted func(os.FileInfo) bool, what string) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("could not check %s: %w", dir, err)
	}
	for p := filepath.Dir(real); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("could not check %s: %w", p, err)
		}
		if st.Mode().Perm()&0o022 != 0 && (st.Mode()&fs.ModeSticky == 0 || !trusted(st)) {
			return fmt.Errorf("could not set up the token helper: %s (mode %v), above %s, is writable by group or others, who could swap the directory of %s that the vault CLI runs; run: chmod go-w %s, or choose another place", p, st.Mode(), dir, what, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// mineOrRoot: st is the user's or root's (or the system has no owners
// of files: the script is a Unix shell script, elsewhere the mode bits
// say what they can). An owner that cannot be told is refused.
func mineOrRoot(st os.FileInfo) bool {
	uid, known := userdir.Owner(st)
	return (known && uid == 0) || mine(st)
}

// mine: st is the user's (or the system has no owners of files).
func mine(st os.FileInfo) bool {
	uid, known := userdir.Owner(st)
	if !known {
		return !userdir.HasOwners
	}
	return uid == os.Getuid()
}
