//go:build !linux

package peercred

import "net"

// Process is not supported here (see Lookup).
func Process(local, remote net.Addr) (pid int, exe string, err error) { return 0, "", ErrUnsupported }
