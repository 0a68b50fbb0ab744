package agent

import (
	"net"

	"golang.org/x/sys/unix"
)

// unixPeer is the uid and pid of the process at the other end of a UNIX
// socket connection, as the kernel recorded them when it connected
// (SO_PEERCRED).
func unixPeer(c *net.UnixConn) (uid, pid int, err error) {
	return sockoptPeer(c, func(fd int) (int, int, error) {
		cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
		if err != nil {
			return 0, 0, err
		}
		return int(cred.Uid), int(cred.Pid), nil
	})
}
