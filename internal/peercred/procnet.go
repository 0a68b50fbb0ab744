package peercred

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// socket is one line of /proc/net/tcp or /proc/net/tcp6.
type socket struct {
	local, remote netip.AddrPort // unmapped
	uid           uint32
	inode         uint64 // 0: a socket without an owner (TIME_WAIT, orphaned FIN_WAIT2)
}

// maxLine bounds a line of /proc/net/tcp*: about 150 characters in every
// kernel; more is not that file.
const maxLine = 4096

// findSockets returns the sockets of the table r (the text of
// /proc/net/tcp or tcp6, whose addresses are words in the byte order
// order) with the given local and remote addresses. A line that cannot be
// parsed is an error: it could have been the one looked for.
func findSockets(r io.Reader, order binary.ByteOrder, local, remote netip.AddrPort) ([]socket, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxLine)
	var found []socket
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			if f := strings.Fields(line); len(f) > 0 && f[0] == "sl" {
				continue
			}
			return nil, errors.New("could not parse the socket table: no header line")
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		s, err := parseSocket(line, order)
		if err != nil {
			return nil, err
		}
		if s.local == local && s.remote == remote {
			found = append(found, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("could not read the socket table: %w", err)
	}
	return found, nil
}

// parseSocket parses one line: "sl local rem st tx:rx tr:when retrnsmt uid
// timeout inode ...".
func parseSocket(line string, order binary.ByteOrder) (socket, error) {
	f := strings.Fields(line)
	if len(f) < 10 {
		return socket{}, fmt.Errorf("could not parse the socket table line %q: %d fields", line, len(f))
	}
	local, err := parseAddrPort(f[1], order)
	if err != nil {
		return socket{}, fmt.Errorf("could not parse the socket table line %q: %w", line, err)
	}
	remote, err := parseAddrPort(f[2], order)
	if err != nil {
		return socket{}, fmt.Errorf("could not parse the socket table line %q: %w", line, err)
	}
	uid, err := strconv.ParseUint(f[7], 10, 32)
	if err != nil {
		return socket{}, fmt.Errorf("could not parse the socket table line %q: uid: %w", line, err)
	}
	inode, err := strconv.ParseUint(f[9], 10, 64)
	if err != nil {
		return socket{}, fmt.Errorf("could not parse the socket table line %q: inode: %w", line, err)
	}
	return socket{local: local, remote: remote, uid: uint32(uid), inode: inode}, nil
}

// parseAddrPort parses "0100007F:1F90" (IPv4) or 32 hex digits and a port
// (IPv6): the address is printed as 32-bit words in the kernel's byte
// order, the port as a number. IPv4-mapped addresses are unmapped.
func parseAddrPort(s string, order binary.ByteOrder) (netip.AddrPort, error) {
	h, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("address %q: no port", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q: port: %w", s, err)
	}
	if len(h) != 8 && len(h) != 32 {
		return netip.AddrPort{}, fmt.Errorf("address %q: %d hex digits", s, len(h))
	}
	raw, err := hex.DecodeString(h)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("address %q: %w", s, err)
	}
	// Each 4-byte word was printed as a number (%08X): big-endian digits
	// of a word stored in the kernel's order.
	b := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		order.PutUint32(b[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	addr, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}

// owner is the one uid of the sockets found, or an error.
func owner(found []socket, remote netip.AddrPort) (uint32, error) {
	if len(found) == 0 {
		return 0, fmt.Errorf("could not look up the owner of the connection from %s: no such socket (closed?)", remote)
	}
	for _, s := range found {
		if s.inode == 0 {
			return 0, fmt.Errorf("could not look up the owner of the connection from %s: the client closed its socket", remote)
		}
		if s.uid != found[0].uid {
			return 0, fmt.Errorf("could not look up the owner of the connection from %s: two sockets, uids %d and %d", remote, found[0].uid, s.uid)
		}
	}
	return found[0].uid, nil
}
