//go:build !linux

package peercred

import "net/netip"

// Supported reports whether Lookup works here: only on Linux.
func Supported() bool { return false }

func lookup(local, remote netip.AddrPort) (uint32, error) { return 0, ErrUnsupported }
