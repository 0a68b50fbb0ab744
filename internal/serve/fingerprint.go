package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/alisw/alilogin/internal/policy"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// policyFolders are the folders policy.Load reads *.hcl files in.
var policyFolders = []string{".", "vault", "nomad", "consul"}

// fingerprint hashes what policy.Load reads of dir, and how: the *.hcl
// files directly in dir and in dir/vault, dir/nomad and dir/consul (each
// may be a link to a folder), by name, type and, for a regular file or a
// link to one, its first policy.MaxFileSize+1 bytes (beyond that Load
// refuses the file, so nothing more needs hashing) and size (Content), and its
// modification time and (on Linux) inode and change time (Stamp only). A
// hidden *.hcl counts by its name
// only (Load leaves it out with a warning); anything else that is no
// regular file (a named pipe, a device, a broken link) by its type and
// link target, never opened, so that the fingerprint never blocks. Files
// of other names are not looked at.
//
// The times are in Stamp so that a folder rewritten and put back while
// Load read it (the same bytes before and after, something else in
// between) shows as changed: see loadIfChanged.
func fingerprint(dir string) (folderPrint, error) {
	// h: everything; c: the same without the times and inode, for "has
	// the content changed" (a new generation).
	c, t := sha256.New(), sha256.New()
	h := io.MultiWriter(c, t)
	fail := func(err error) (folderPrint, error) { return folderPrint{}, err }
	for _, sub := range policyFolders {
		p := filepath.Join(dir, sub)
		entries, err := os.ReadDir(p)
		switch {
		case err != nil && sub == ".":
			return fail(fmt.Errorf("could not read %s: %w", dir, err))
		case errors.Is(err, fs.ErrNotExist):
			// Missing, or a broken link: Load tells which.
			target, _ := os.Readlink(p)
			fmt.Fprintf(h, "%s/\x00missing\x00%s\x00", sub, target)
			continue
		case err != nil:
			fmt.Fprintf(h, "%s/\x00%v\x00", sub, err)
			continue
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".hcl") {
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		for _, name := range names {
			fmt.Fprintf(h, "%s/%s\x00", sub, name)
			if strings.HasPrefix(name, ".") {
				h.Write([]byte("hidden\x00"))
				continue
			}
			if err := hashFile(h, t, filepath.Join(p, name)); err != nil {
				return fail(err)
			}
		}
	}
	return folderPrint{Content: hex.EncodeToString(c.Sum(nil)), Stamp: hex.EncodeToString(t.Sum(nil))}, nil
}

// folderPrint is a fingerprint of the policies folder.
type folderPrint struct {
	Content string // what Load reads: the names, types and bytes
	Stamp   string // Content and the files' times and inodes: any write shows
}

// hashFile hashes the file p as fingerprint says, its times and inode
// into t only. A link is followed; only a regular file is opened, without
// blocking (O_NONBLOCK, in case it was swapped for a named pipe since the
// check), and checked again once open.
func hashFile(h, t io.Writer, p string) error {
	if target, err := os.Readlink(p); err == nil {
		fmt.Fprintf(h, "link to %s\x00", target)
	}
	st, err := os.Stat(p)
	if err != nil {
		fmt.Fprintf(h, "%v\x00", unwrapPathError(err)) // broken or looping link
		return nil
	}
	if !st.Mode().IsRegular() {
		fmt.Fprintf(h, "%v\x00", st.Mode().Type())
		return nil
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		fmt.Fprintf(h, "%v\x00", unwrapPathError(err)) // Load says why
		return nil
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return fmt.Errorf("could not read %s: %w", p, err)
	}
	if !st.Mode().IsRegular() {
		fmt.Fprintf(h, "%v\x00", st.Mode().Type())
		return nil
	}
	fmt.Fprintf(h, "%d\x00", st.Size())
	fmt.Fprintf(t, "%d %s\x00", st.ModTime().UnixNano(), fileIdentity(st))
	if _, err := io.Copy(h, io.LimitReader(f, policy.MaxFileSize+1)); err != nil {
		return fmt.Errorf("could not read %s: %w", p, err)
	}
	h.Write([]byte{0})
	return nil
}

// unwrapPathError drops the path of a *fs.PathError: the hash names the
// file already, and the folder's own path is no part of its content.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
