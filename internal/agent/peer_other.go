//go:build !linux && !darwin

package agent

import "net"

func unixPeer(*net.UnixConn) (uid, pid int, err error) { return 0, 0, ErrUnsupported }
