//go:build !unix

package agent

import "syscall"

// peekable: off Unix, only what Go holds is looked at (h1Conn.quiet).
func peekable(syscall.RawConn) bool { return false }
