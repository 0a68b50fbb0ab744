package peercred

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"testing"
)

// TestDiagFindsTheClientSocket: sock_diag answers for the client end of
// an accepted loopback connection (IPv4 and IPv6) with the same uid and
// inode as its line in /proc/net/tcp*, and "no such socket" once the
// client is gone.
func TestDiagFindsTheClientSocket(t *testing.T) {
	for _, c := range []struct{ network, addr string }{{"tcp4", "127.0.0.1:0"}, {"tcp6", "[::1]:0"}} {
		t.Run(c.network, func(t *testing.T) {
			l, err := net.Listen(c.network, c.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			cl, err := net.Dial(c.network, l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			srv := accept(t, l)
			local, remote, err := loopbackEnds(srv)
			if err != nil {
				t.Fatal(err)
			}
			uid, inode, err := diagSocket(remote, local)
			if err != nil || uid != uint32(os.Geteuid()) || inode == 0 {
				t.Fatalf("diagSocket = uid %d inode %d, %v; want uid %d and an inode", uid, inode, err, os.Geteuid())
			}
			var found []socket
			for _, name := range tables {
				f, err := os.Open(name)
				if err != nil {
					continue
				}
				s, _ := findSockets(f, binary.NativeEndian, remote, local)
				f.Close()
				found = append(found, s...)
			}
			if len(found) != 1 || uint64(inode) != found[0].inode || uid != found[0].uid {
				t.Errorf("sock_diag: uid %d inode %d; /proc/net: %+v", uid, inode, found)
			}
			// The client closes, then the server: the client socket is
			// gone or left without an owner (TIME_WAIT: inode 0).
			cl.Close()
			srv.Close()
			if _, inode, err := diagSocket(remote, local); err == nil && inode != 0 {
				t.Errorf("after both ends closed, sock_diag still finds an owned socket (inode %d)", inode)
			} else if err != nil && !errors.Is(err, errNoSocket) {
				t.Errorf("after both ends closed: %v, want no such socket", err)
			}
		})
	}
}
