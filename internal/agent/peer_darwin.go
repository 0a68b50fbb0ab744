package agent

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// unixPeer is the uid of the process at the other end of a UNIX socket
// connection (LOCAL_PEERCRED); the pid is not given (0).
func unixPeer(c *net.UnixConn) (uid, pid int, err error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, 0, fmt.Errorf("could not read the peer's credentials: %w", err)
	}
	var cred *unix.Xucred
	var serr error
	if err := rc.Control(func(fd uintptr) { cred, serr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED) }); err != nil {
		return 0, 0, fmt.Errorf("could not read the peer's credentials: %w", err)
	}
	if serr != nil {
		return 0, 0, fmt.Errorf("could not read the peer's credentials: %w", serr)
	}
	return int(cred.Uid), 0, nil
}
