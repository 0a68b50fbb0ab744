package policy

// files.go: walking the policies folder: which files are read, which are
// left out with a warning, and reading one file (bounded, parsed).

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// hclFiles lists the *.hcl files directly in dir (slash-separated, relative
// to the policies directory), sorted; a missing dir is an empty list.
//
// A symbolic link to a regular file is read like the file (configuration
// management deploys that way). Nothing named *.hcl is skipped silently:
// a dangling or looping link, or an entry that is not a regular file, is an
// error at that file; a hidden file (.name.hcl: editor swap and lock files)
// is left out with a warning.
func (l *loader) hclFiles(dir string) ([]string, error) {
	entries, err := fs.ReadDir(l.fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		// A dangling link named like the folder is not a missing folder.
		if target, lerr := fs.ReadLink(l.fsys, dir); lerr == nil {
			l.errorf(l.start(dir), "Broken symbolic link", "%s is a symbolic link to %q, which does not exist", l.display(dir), target)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("could not list %s: %w", l.display(dir), err)
	}
	var out []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".hcl") {
			continue
		}
		rel := path.Join(dir, e.Name())
		if strings.HasPrefix(e.Name(), ".") {
			l.warnf(l.start(rel), "hidden file left out (only files not starting with '.' are read)")
			continue
		}
		if l.regular(rel, e) {
			out = append(out, rel)
		}
	}
	sort.Strings(out)
	return out, nil
}

// others warns of each *.hcl file that is not read because of where it
// is or how it is named: in a folder other than the policies folder itself
// and vault/, nomad/ and consul/ (profiles.d/x.hcl, vault/team/x.hcl), or
// with an extension that is not lower-case .hcl (x.HCL; only *.hcl is
// read). Folders whose names start with '.' (.git) are not looked into. A
// symbolic link to a folder is not followed but warned about, except
// vault, nomad and consul themselves, which are read through the link and
// so are looked into the same way.
func (l *loader) others() {
	n := 0
	for _, sys := range l.walk(".", &n) {
		l.walk(sys, &n)
	}
}

// read is the folders whose *.hcl files Load reads.
var read = map[string]bool{".": true, "vault": true, "nomad": true, "consul": true}

// walk warns as others says under root, counting entries in n; it returns
// the folders vault, nomad and consul found as links to folders (only
// when root is ".").
func (l *loader) walk(root string, n *int) []string {
	var linked []string
	_ = fs.WalkDir(l.fsys, root, func(rel string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil // an unreadable folder: what is in it is unknown
		}
		if *n++; *n > maxWalk {
			return fs.SkipAll
		}
		name := e.Name()
		if e.IsDir() {
			if rel != root && strings.HasPrefix(name, ".") {
				return fs.SkipDir
			}
			return nil
		}
		if e.Type()&fs.ModeSymlink != 0 && !strings.HasPrefix(name, ".") {
			if st, err := fs.Stat(l.fsys, rel); err == nil && st.IsDir() {
				if root == "." && read[rel] && rel != "." {
					linked = append(linked, rel)
				} else {
					l.warnf(l.start(rel), "left out: a symbolic link to a folder is not followed; only the *.hcl files in the policies folder itself and in vault/, nomad/ and consul/ (which may be links) are read")
				}
				return nil
			}
		}
		if !strings.EqualFold(path.Ext(name), ".hcl") {
			return nil
		}
		switch {
		case !read[path.Dir(rel)]:
			l.warnf(l.start(rel), "left out: only the *.hcl files in the policies folder itself and in vault/, nomad/ and consul/ are read")
		case path.Ext(name) != ".hcl":
			l.warnf(l.start(rel), "left out: only files whose names end in lower-case .hcl are read")
		}
		return nil
	})
	return linked
}

// maxWalk bounds how many entries others looks at.
const maxWalk = 10000

// regular reports whether the entry rel is a regular file or a symbolic
// link to one; anything else is an error at rel.
func (l *loader) regular(rel string, e fs.DirEntry) bool {
	typ := e.Type()
	if typ.IsRegular() {
		return true
	}
	if typ&fs.ModeSymlink == 0 {
		l.errorf(l.start(rel), "Not a regular file", "%s is a %s, not a file", l.display(rel), kind(typ))
		return false
	}
	target, _ := fs.ReadLink(l.fsys, rel)
	st, err := fs.Stat(l.fsys, rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		l.errorf(l.start(rel), "Broken symbolic link", "%s is a symbolic link to %q, which does not exist", l.display(rel), target)
		return false
	case err != nil:
		// ELOOP and the like: the message of the system says which.
		l.errorf(l.start(rel), "Broken symbolic link", "%s is a symbolic link to %q that cannot be followed: %v", l.display(rel), target, unwrapPath(err))
		return false
	case !st.Mode().IsRegular():
		l.errorf(l.start(rel), "Not a regular file", "%s is a symbolic link to %q, a %s, not a file", l.display(rel), target, kind(st.Mode().Type()))
		return false
	}
	return true
}

// kind names a non-regular file type for messages.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// unwrapPath drops the "stat name:" part of a *fs.PathError, which the
// message names already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// start is the position of the start of the file rel, for messages about
// the file as a whole.
func (l *loader) start(rel string) *hcl.Range {
	return &hcl.Range{Filename: l.display(rel), Start: hcl.InitialPos, End: hcl.InitialPos}
}

// display is how messages name the file rel.
func (l *loader) display(rel string) string { return filepath.Join(l.dir, filepath.FromSlash(rel)) }

// parse reads and parses one HCL file.
func (l *loader) parse(rel string) (*hclsyntax.Body, []byte) {
	path := l.display(rel)
	src, err := l.readLimited(rel)
	if err != nil {
		l.errorf(l.start(rel), "Unreadable file", "%v", err)
		return nil, nil
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() || f == nil {
		return nil, src
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil, src
	}
	return body, src
}

func (l *loader) readLimited(rel string) ([]byte, error) {
	f, err := l.fsys.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("file larger than %d bytes", MaxFileSize)
	}
	return src, nil
}

// loadDocuments reads policies/<system>/*.hcl. A file named as a policy
// with a meaning to its server (Reserved: Nomad's anonymous, Vault's
// default) is refused, never applied.
func (l *loader) loadDocuments(system string) error {
	files, err := l.hclFiles(system)
	if err != nil {
		return err
	}
	for _, rel := range files {
		name := strings.TrimSuffix(path.Base(rel), ".hcl")
		start := l.start(rel)
		if err := CheckName(name); err != nil {
			l.errorf(start, "Invalid policy file name", "%v", err)
			continue
		}
		if why, ok := Reserved(system, name); ok {
			l.errorf(start, "Reserved policy name", "the %s policy name %q is reserved: %s; rename the file", system, name, why)
			continue
		}
		body, src := l.parse(rel)
		if body == nil {
			continue
		}
		l.diags = append(l.diags, CheckDocument(system, body)...)
		doc := Document{Name: name, File: rel, Rules: string(src)}
		switch system {
		case "vault":
			l.cfg.VaultPolicies = append(l.cfg.VaultPolicies, doc)
		case "nomad":
			l.cfg.NomadPolicies = append(l.cfg.NomadPolicies, doc)
		case "consul":
			l.cfg.ConsulPolicies = append(l.cfg.ConsulPolicies, doc)
		}
	}
	return nil
}
