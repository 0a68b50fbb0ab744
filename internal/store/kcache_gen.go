package store

import (
	"crypto/rand"
	"path/filepath"

	"github.com/alisw/alilogin/internal/atomicfile"
)

// Gen is a profile's generation as the kernel cache sees it: the identity
// of the profile's generation file (device, inode, size, change and
// modification times), "none" while there is no such file, and "" when
// it cannot be told (nothing is then served or cached).
type Gen string

// genNone is the generation of a profile whose generation file was never
// written. The file is never removed, only replaced, so once it exists
// this value does not come back.
const genNone Gen = "none"

// generations keeps one file per profile in dir (kcache/ in the state
// directory, which all of the user's sessions share). Reading the
// current generation is one stat(2), cheap enough for the fast path of
// `alilogin token`; a bump replaces the file atomically with a new one
// of random content, a new inode with new times.
type generations struct{ dir string }

func (g generations) path(profile string) string { return filepath.Join(g.dir, profile+".gen") }

func (g generations) current(profile string) Gen {
	if g.dir == "" {
		return ""
	}
	return statGen(g.path(profile))
}

func (g generations) bump(profile string) Gen {
	if g.dir == "" {
		return ""
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return ""
	}
	if atomicfile.Write(g.path(profile), b) != nil {
		return ""
	}
	return g.current(profile)
}
