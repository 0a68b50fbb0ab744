//go:build unix

package agent

import (
	"errors"
	"syscall"
)

// peekable reports whether the kernel holds something to read on rc (a
// byte, or the end of the connection), without taking it or waiting.
func peekable(rc syscall.RawConn) bool {
	if rc == nil {
		return false
	}
	var err error
	var b [1]byte
	if cerr := rc.Read(func(fd uintptr) bool {
		_, _, err = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true
	}); cerr != nil {
		return true
	}
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EINTR) {
		return false
	}
	return true // a byte, the end (n == 0) or an error: not a quiet connection
}
