package agent

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// unixPeer is the uid and pid of the process at the other end of a UNIX
// socket connection, as the kernel recorded them when it connected
// (SO_PEERCRED).
func unixPeer(c *net.UnixConn) (uid, pid int, err error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, 0, fmt.Errorf("could not read the peer's credentials: %w", err)
	}
	var cred *unix.Ucred
	var serr error
	if err := rc.Control(func(fd uintptr) { cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) }); err != nil {
		return 0, 0, fmt.Errorf("could not read the peer's credentials: %w", err)
	}
	if serr != nil {
		return 0, 0, fmt.Errorf("could not read the peer's credentials: %w", serr)
	}
	return int(cred.Uid), int(cred.Pid), nil
}
