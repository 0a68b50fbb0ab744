package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/alisw/alilogin/internal/atomicfile"
)

// Gen is a profile's generation as the kernel cache sees it: the random
// content of the profile's generation file, or "" when there is none to
// go by (no file, an unreadable or malformed one): nothing is then served
// or cached.
type Gen string

// genLen is the length of a generation: 16 random bytes in hex.
const genLen = 32

// generations keeps one file per profile in dir (kcache/ in the state
// directory, which all of the user's sessions share). Reading the
// current generation is one small read (open, read, close), cheap enough
// for the fast path of `alilogin token`; a bump replaces the file
// atomically with new random content. The generation is the content, not
// the file's identity, so no earlier value ever comes back: not after the
// file or kcache/ is removed (which serves nothing until the next fill
// writes a new one), nor when a file system reuses an inode and a time.
type generations struct{ dir string }

func (g generations) path(profile string) string { return filepath.Join(g.dir, profile+".gen") }

// current is the generation in the file, "" without a valid one.
func (g generations) current(profile string) Gen {
	if g.dir == "" {
		return ""
	}
	var buf [genLen + 1]byte
	n, ok := readSmall(g.path(profile), buf[:])
	if !ok || n != genLen {
		return ""
	}
	if _, err := hex.Decode(make([]byte, genLen/2), buf[:n]); err != nil {
		return ""
	}
	return Gen(buf[:n])
}

// forFill is the generation to tag a copy with, read before the backend:
// the current one, else (no valid file yet) a new one, written now so
// that the copy can be told apart from every earlier one. "" when the
// file cannot be written: then nothing is cached.
func (g generations) forFill(profile string) Gen {
	if gen := g.current(profile); gen != "" {
		return gen
	}
	gen, _ := g.bump(profile)
	return gen
}

// GenerationError: the profile's generation file could not be replaced,
// so copies of its record that other processes cached may still be
// served. alilogin then drops every copy it finds, removes the file when
// it can (which serves nothing until one can be written again) and
// caches nothing for the profile meanwhile.
type GenerationError struct {
	Profile string
	Path    string
	Removed bool // the old file is gone: no copy made under it is served
	Err     error
}

func (e *GenerationError) Error() string {
	s := fmt.Sprintf("could not write the kernel-keyring cache generation of profile %s (%s): %v; the cached copies were dropped", e.Profile, e.Path, e.Err)
	if !e.Removed {
		s += fmt.Sprintf(", but one that another alilogin was adding at this moment may be served until it expires (at most %s); remove %s or set ALILOGIN_KERNEL_CACHE=off", kernelCacheMaxTTL, e.Path)
	}
	return s
}

func (e *GenerationError) Unwrap() error { return e.Err }

// bump replaces the generation with a new random one. When it cannot, it
// removes the old file if it can (a missing generation serves nothing)
// and returns a *GenerationError.
func (g generations) bump(profile string) (Gen, error) {
	if g.dir == "" {
		return "", nil
	}
	b := make([]byte, genLen/2)
	_, err := rand.Read(b)
	if err == nil {
		gen := hex.EncodeToString(b)
		// Unsynced: the copies a generation tags are in kernel memory and
		// do not survive the crash that could lose the write (a file
		// left empty or old then tags none of them).
		if err = atomicfile.WriteUnsynced(g.path(profile), []byte(gen)); err == nil {
			return Gen(gen), nil
		}
	}
	p := g.path(profile)
	rerr := os.Remove(p)
	return "", &GenerationError{Profile: profile, Path: p, Removed: rerr == nil || errors.Is(rerr, os.ErrNotExist), Err: err}
}

// Watch is the file whose content changes whenever the profile's stored
// login is written or deleted by any alilogin of the user (a login, a
// renewal that replaced or extended tokens, a logout): the profile's
// generation file. The shell hook reads it with the shell's own `read`
// before each prompt and refreshes when it differs from Gen, the content
// it had when the hook last refreshed. ok is false where there are no
// generation files (no kernel cache: off Linux); Gen is "" while the
// file does not exist or is not valid.
func Watch(getenv func(string) string, profile string) (path string, gen Gen, ok bool) {
	if systemKeyctl() == nil || checkProfile(profile) != nil {
		return "", "", false
	}
	dir, err := StateDir(getenv)
	if err != nil {
		return "", "", false
	}
	g := generations{dir: filepath.Join(dir, "kcache")}
	return g.path(profile), g.current(profile), true
}

// Watcher is Watch for a process that asks on every request (the agent):
// current returns the generation Watch would return now, but reads the
// file only after something changed in its directory (on Linux, an
// inotify instance tells: genwatch_linux.go). ok is Watch's.
func Watcher(getenv func(string) string, profile string) (current func() Gen, ok bool) {
	if systemKeyctl() == nil || checkProfile(profile) != nil {
		return nil, false
	}
	dir, err := StateDir(getenv)
	if err != nil {
		return nil, false
	}
	return generations{dir: filepath.Join(dir, "kcache")}.watcher(profile), true
}
