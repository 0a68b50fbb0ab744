// Package peercred answers one question for a server on loopback: which
// user of this computer owns the other end of this TCP connection?
//
// A loopback port can be reached by every local user, and a browser opened
// through xdg-open is no process alilogin can match (the URL may go to a
// browser that was running already). What can be matched is the client
// socket: on Linux the kernel lists every TCP socket of the network
// namespace in /proc/net/tcp and /proc/net/tcp6 with the uid that created
// it, world-readable. The client end of a connection accepted on
// 127.0.0.1:P from 127.0.0.1:C is the line whose local address is
// 127.0.0.1:C and whose remote address is 127.0.0.1:P (the accepted
// socket, ours, is the line the other way round). A client that connected
// from an IPv6 socket to an IPv4 listener shows in tcp6 with IPv4-mapped
// addresses; both files are read and the addresses unmapped.
//
// Everything that is not a clear answer is an error, so that callers fail
// closed: no line (the client closed meanwhile), a line whose socket has
// no inode (a TIME_WAIT or orphaned FIN_WAIT2 socket, which the kernel
// lists with uid 0 whoever created it), two lines that disagree, a file
// that cannot be read or parsed, a connection that is not TCP on loopback.
//
// Lookup does the lookup; ConnContext and OnlyUser wire it into an
// http.Server, once per connection. The login's loopback listener
// (internal/oidc) and the agent's routes (internal/agent) use them; the
// web UIs' one-time URL and
// attended elevation are meant to use the same, not a copy.
//
// Elsewhere (macOS, Windows, the BSDs) there is no unprivileged way to
// learn the owner of another process's TCP socket: Lookup returns
// ErrUnsupported and Supported reports false, and each caller says what
// holds instead (the login serves its start URL once; see
// docs/security.md).
package peercred
