package session

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/atomicfile"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/store"
)

// The current profile is what `alilogin use P` sets, as `kubectl config
// use-context` and `gh auth switch` do: the profile of every command
// that is given neither --profile nor ALILOGIN_PROFILE, ahead of
// default_profile. It is one line, the profile's name, in a small file
// of the state directory (per user and machine, like the logins it
// chooses among; not in the config file, which may be shared between
// machines), written atomically, 0600. It is no secret. A login sets it
// only when none is set, so an interactive login to another profile
// never changes what a script without --profile uses; a logout of that
// profile removes it.

// CurrentPath is the current-profile file.
func CurrentPath(getenv func(string) string) (string, error) {
	dir, err := store.StateDir(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "current-profile"), nil
}

// Current is the current profile; "" when none is set. A file that does
// not hold a profile name is an error that says how to fix it.
func Current(e Env) (string, error) {
	path, err := CurrentPath(e.getenv)
	if err != nil {
		return "", err
	}
	b, err := readCurrentFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if errors.Is(err, errNotRegular) {
		return "", usage(fmt.Errorf("%s is not a regular file; set the current profile with: alilogin use PROFILE (or remove it)", path))
	}
	if err != nil {
		return "", fmt.Errorf("could not read the current profile: %w", err)
	}
	p := strings.TrimSpace(string(b))
	if !config.ValidProfileName(p) {
		return "", usage(fmt.Errorf("%s does not name a profile; set one with: alilogin use PROFILE (or remove the file)", path))
	}
	return p, nil
}

// maxCurrentFile bounds what is read of the current-profile file: a
// profile name and its newline, and one byte to see that there is more.
const maxCurrentFile = 129

var errNotRegular = errors.New("not a regular file")

// readCurrentFile reads at most maxCurrentFile bytes of path, a regular
// file and not a symlink: a FIFO or a device there (/dev/zero, a
// terminal) is refused without waiting on it (opened non-blocking,
// fstat), so that no command hangs or reads without end.
func readCurrentFile(path string) ([]byte, error) {
	f, err := openNoFollow(path)
	if err != nil {
		if isSymlinkErr(err) {
			return nil, errNotRegular
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotRegular
	}
	return io.ReadAll(io.LimitReader(f, maxCurrentFile))
}

// SetCurrent makes p the current profile.
func SetCurrent(e Env, p string) error {
	if err := checkName(p); err != nil {
		return err
	}
	path, err := CurrentPath(e.getenv)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, []byte(p+"\n")); err != nil {
		return fmt.Errorf("could not set the current profile: %w", err)
	}
	return nil
}

// ClearCurrent removes the current profile when it is p, or whatever it
// is when p is "". cleared: there was one to remove.
func ClearCurrent(e Env, p string) (cleared bool, err error) {
	if p != "" {
		cur, err := Current(e)
		if err != nil || cur != p {
			return false, nil // another profile's (or a broken file): not p's to remove
		}
	}
	path, err := CurrentPath(e.getenv)
	if err != nil {
		return false, err
	}
	switch err := os.Remove(path); {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("could not clear the current profile: %w", err)
	}
	return true, nil
}

// chosen is the profile of a command given no --profile: ALILOGIN_PROFILE,
// else the current profile, else default_profile; "" when none.
func chosen(e Env, cfg *config.Config) (string, error) {
	if p := e.getenv("ALILOGIN_PROFILE"); p != "" {
		return p, nil
	}
	p, err := Current(e)
	if p != "" || err != nil {
		return p, err
	}
	// ALILOGIN_PROFILE is empty: the configuration's default is the
	// config file's.
	return cfg.DefaultProfile, nil
}

// KnownProfileNames are the profiles a shell completes: the stored
// logins' and, unless storedOnly, the configured ones (config file, the
// broker's cached discovery document), sorted. No network call; what
// cannot be read is left out.
func KnownProfileNames(e Env, storedOnly bool) []string {
	cfg, st, err := Local(e, Options{})
	if err != nil {
		return nil
	}
	names, _ := st.List()
	if !storedOnly {
		for _, p := range cfg.Profiles {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
