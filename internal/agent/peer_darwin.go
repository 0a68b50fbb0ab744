package agent

import (
	"net"

	"golang.org/x/sys/unix"
)

// unixPeer is the uid of the process at the other end of a UNIX socket
// connection (LOCAL_PEERCRED); the pid is not given (0).
func unixPeer(c *net.UnixConn) (uid, pid int, err error) {
	return sockoptPeer(c, func(fd int) (int, int, error) {
		cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
		if err != nil {
			return 0, 0, err
		}
		return int(cred.Uid), 0, nil
	})
}
