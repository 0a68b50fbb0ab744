package peercred

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
)

// Supported reports whether Lookup works here: on Linux, yes.
func Supported() bool { return true }

// tables are the socket tables read, IPv4 then IPv6 (a kernel without
// IPv6 has no tcp6).
var tables = []string{"/proc/net/tcp", "/proc/net/tcp6"}

// lookup finds the client socket of the connection accepted on local
// from remote: its local address is remote and its remote address local.
func lookup(local, remote netip.AddrPort) (uint32, error) {
	// sock_diag (diag_linux.go): the one socket, without a walk of all.
	uid, inode, err := diagSocket(remote, local)
	if err == nil {
		if inode == 0 {
			return 0, fmt.Errorf("could not look up the owner of the connection from %s: the client closed its socket", remote)
		}
		return uid, nil
	}
	if errors.Is(err, errNoSocket) {
		return 0, fmt.Errorf("could not look up the owner of the connection from %s: no such socket (closed?)", remote)
	}
	var found []socket
	for _, name := range tables {
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) && name != tables[0] {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("could not look up the owner of the connection from %s: %w", remote, err)
		}
		s, err := findSockets(f, binary.NativeEndian, remote, local)
		f.Close()
		if err != nil {
			return 0, fmt.Errorf("could not look up the owner of the connection from %s: %s: %w", remote, name, err)
		}
		found = append(found, s...)
	}
	return owner(found, remote)
}
