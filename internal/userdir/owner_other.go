//go:build !unix

package userdir

import "io/fs"

// HasOwners: files have no uid outside Unix.
const HasOwners = false

// Owner: files have no uid outside Unix.
func Owner(fs.FileInfo) (uid int, known bool) { return NoUID, false }
