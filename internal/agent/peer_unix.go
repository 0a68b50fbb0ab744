//go:build linux || darwin

package agent

import (
	"fmt"
	"net"
)

// sockoptPeer runs read, which asks the kernel for the credentials of
// the peer, on the connection's file descriptor; the two platforms
// differ only in the socket option read uses.
func sockoptPeer(c *net.UnixConn, read func(fd int) (uid, pid int, err error)) (uid, pid int, err error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, 0, fmt.Errorf("could not read the peer's credentials: %w", err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { uid, pid, serr = read(int(fd)) }); err != nil {
		return 0, 0, fmt.Errorf("could not read the peer's credentials: %w", err)
	}
	if serr != nil {
		return 0, 0, fmt.Errorf("could not read the peer's credentials: %w", serr)
	}
	return uid, pid, nil
}
