//go:build !linux

package serve

import "os"

// fileIdentity: content, size and modification time only.
func fileIdentity(os.FileInfo) string { return "" }
