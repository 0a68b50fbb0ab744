package tokenhelper

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinaryOthersCannotReplace: the alilogin binary the helper script
// runs obeys the rules of the script's own place: a binary, or its
// directory, that group or others may write, or that another user owns,
// or under a directory others may write that is not sticky, is refused
// (whoever can replace it runs code as the user at every vault
// command); the user's own ~/bin, root's /usr/bin and a binary in a
// private directory under the sticky /tmp are fine, and a symbolic link
// is followed to the binary it names.
func TestBinaryOthersCannotReplace(t *testing.T) {
	for _, c := range []struct {
		name string
		// dirMode, binMode, parentMode: modes of the binary's directory,
		// the binary and the directory above; chown: which is another
		// user's ("bin", "dir").
		dirMode, binMode, parentMode os.FileMode
		chown                        string
		symlink                      bool
		ok                           bool
		want                         string // in the error
	}{
		{name: "private", dirMode: 0o700, binMode: 0o700, parentMode: 0o700, ok: true},
		{name: "usual modes", dirMode: 0o755, binMode: 0o755, parentMode: 0o755, ok: true},
		{name: "symlink followed", dirMode: 0o755, binMode: 0o755, parentMode: 0o755, symlink: true, ok: true},
		{name: "directory 0777", dirMode: 0o777, binMode: 0o755, parentMode: 0o755, want: "directory of the alilogin binary, is writable by group or others"},
		{name: "directory 0775", dirMode: 0o775, binMode: 0o755, parentMode: 0o755, want: "directory of the alilogin binary, is writable by group or others"},
		{name: "sticky directory 1777", dirMode: os.ModeSticky | 0o777, binMode: 0o755, parentMode: 0o755, want: "directory of the alilogin binary, is writable by group or others"},
		{name: "binary 0777", dirMode: 0o755, binMode: 0o777, parentMode: 0o755, want: "(mode -rwxrwxrwx) is writable by group or others"},
		{name: "binary 0775", dirMode: 0o755, binMode: 0o775, parentMode: 0o755, want: "is writable by group or others"},
		{name: "parent 0777", dirMode: 0o755, binMode: 0o755, parentMode: 0o777, want: "who could swap the directory of the alilogin binary"},
		{name: "symlink to a binary in 0777", dirMode: 0o777, binMode: 0o755, parentMode: 0o755, symlink: true, want: "directory of the alilogin binary, is writable by group or others"},
		{name: "binary of another user", dirMode: 0o755, binMode: 0o755, parentMode: 0o755, chown: "bin", want: "is owned by another user"},
		{name: "directory of another user", dirMode: 0o755, binMode: 0o755, parentMode: 0o755, chown: "dir", want: "directory of the alilogin binary, is owned by another user"},
	} {
		t.Run(c.name, func(t *testing.T) {
			parent := filepath.Join(t.TempDir(), "parent")
			dir := filepath.Join(parent, "bin")
			bin := filepath.Join(dir, "alilogin")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o700); err != nil {
				t.Fatal(err)
			}
			for p, m := range map[string]os.FileMode{bin: c.binMode, dir: c.dirMode, parent: c.parentMode} {
				if err := os.Chmod(p, m); err != nil {
					t.Fatal(err)
				}
			}
			// Another user's: the file or directory named c.chown
			// (whoever runs the test owns every file it makes).
			trusted := mineOrRoot
			if c.chown != "" {
				trusted = func(st os.FileInfo) bool {
					return st.Name() != map[string]string{"bin": "alilogin", "dir": "bin"}[c.chown]
				}
			}
			exe := bin
			if c.symlink {
				exe = filepath.Join(t.TempDir(), "alilogin")
				if err := os.Symlink(bin, exe); err != nil {
					t.Fatal(err)
				}
			}
			got, err := binaryAt(exe, trusted)
			switch {
			case c.ok && err != nil:
				t.Errorf("refused: %v", err)
			case c.ok && got != bin:
				t.Errorf("binary %s, want %s", got, bin)
			case !c.ok && err == nil:
				t.Errorf("accepted %s", got)
			case !c.ok && !strings.Contains(err.Error(), c.want):
				t.Errorf("error %q, want it to say %q", err, c.want)
			}
		})
	}
}

// TestBinarySystemInstalled: a binary installed by the system (root's,
// in root's directories), here /bin/sh, passes, its symbolic links
// resolved.
func TestBinarySystemInstalled(t *testing.T) {
	want, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := binaryAt("/bin/sh", mineOrRoot); err != nil || got != want {
		t.Errorf("binaryAt(/bin/sh) = %q, %v; want %s", got, err, want)
	}
}
