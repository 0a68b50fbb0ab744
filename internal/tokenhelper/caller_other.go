//go:build !linux

package tokenhelper

// findClient: only Linux shows another process's command line and
// environment without privileges or cgo; see docs/security.md for the
// limit this leaves.
func findClient() (*Client, error) { return nil, ErrNoProcessView }
