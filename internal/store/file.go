package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/atomicfile"
	"github.com/alisw/alilogin/internal/userdir"
)

// StateDir returns alilogin's directory under the user state directory
// ($XDG_STATE_HOME/alilogin, ~/.local/state/alilogin, ~/Library/Application
// Support/alilogin, %LocalAppData%\alilogin), read from getenv.
func StateDir(getenv func(string) string) (string, error) { return userdir.State(getenv) }

// File keeps records as 0600 JSON files in a 0700 directory.
type File struct {
	Dir string
}

// NewFile returns the file store in dir (created on first write).
func NewFile(dir string) *File { return &File{Dir: dir} }

func (f *File) path(profile string) string { return filepath.Join(f.Dir, profile+".json") }

// Path is where the profile's record is kept.
func (f *File) Path(profile string) string { return f.path(profile) }

// Get reads the profile's record.
func (f *File) Get(profile string) (*Record, error) {
	if err := checkProfile(profile); err != nil {
		return nil, err
	}
	p := f.path(profile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("could not read stored login: %w", err)
	}
	return decode(profile, p, b)
}

// Put writes the record atomically (see internal/atomicfile), in a
// directory restricted to 0700 even when it already existed.
func (f *File) Put(r *Record) error {
	if err := checkProfile(r.Profile); err != nil {
		return err
	}
	b, err := encode(r)
	if err != nil {
		return err
	}
	return f.write(f.path(r.Profile), b, "stored login")
}

// write puts b at path atomically (see internal/atomicfile), in the store
// directory restricted to 0700 even when it already existed; what names
// the item in the error.
func (f *File) write(path string, b []byte, what string) error {
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("could not create the store directory: %w", err)
	}
	if err := os.Chmod(f.Dir, 0o700); err != nil {
		return fmt.Errorf("could not restrict the store directory: %w", err)
	}
	if err := atomicfile.Write(path, b); err != nil {
		return fmt.Errorf("could not write %s: %w", what, err)
	}
	return nil
}

// Delete removes the record; ErrNotFound when there was none.
func (f *File) Delete(profile string) error {
	if err := checkProfile(profile); err != nil {
		return err
	}
	err := os.Remove(f.path(profile))
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("could not delete stored login: %w", err)
	}
	return nil
}

// List returns the profiles with a record.
func (f *File) List() ([]string, error) {
	ents, err := os.ReadDir(f.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("could not list stored logins: %w", err)
	}
	var l []string
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if ok && e.Type().IsRegular() && checkProfile(name) == nil {
			l = append(l, name)
		}
	}
	slices.Sort(l)
	return l, nil
}
