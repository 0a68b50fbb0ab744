//go:build !linux

package tokenhelper

// callerArgs: only Linux shows another process's command line without
// privileges or cgo; see docs/security.md for the limit this leaves.
func callerArgs() ([]string, bool) { return nil, false }
