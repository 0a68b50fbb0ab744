//go:build !unix

package userdir

import "io/fs"

// Owner: files have no uid outside Unix.
func Owner(fs.FileInfo) (uid int, known bool) { return -1, false }
