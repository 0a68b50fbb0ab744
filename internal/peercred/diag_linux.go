package peercred

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// The kernel's sock_diag (NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY): one
// request names one TCP socket by its four addresses and the answer is
// that socket alone, with its uid and inode. Reading /proc/net/tcp
// instead costs the kernel a walk of every TCP socket of the namespace
// (about 16 ms with 2,500 sockets), for each connection: a burst of 500
// connections to the agent, each adding two sockets, cost seconds of CPU
// and tens of MiB. The files stay the fallback (diag errors other than
// "no such socket").

// Layout (linux/inet_diag.h): nlmsghdr (16 bytes), then
// inet_diag_req_v2 (family, protocol, ext, pad, states, inet_diag_sockid);
// the answer's inet_diag_msg holds uid and inode after the sockid.
const (
	nlmsgHdrLen = 16
	sockIDLen   = 48
	diagReqLen  = 8 + sockIDLen
	diagMsgLen  = 4 + sockIDLen + 20
)

// errNoSocket: the kernel has no such socket.
var errNoSocket = errors.New("no such socket")

// diagSocket finds the TCP socket whose local address is src and whose
// peer is dst: its uid and inode.
func diagSocket(src, dst netip.AddrPort) (uid uint32, inode uint32, err error) {
	// A client's socket is in the IPv4 table, or, from an IPv6 socket to
	// an IPv4 listener, found as IPv6 with mapped addresses.
	if !src.Addr().Is4() || !dst.Addr().Is4() {
		return diagOne(unix.AF_INET6, src, dst)
	}
	uid, inode, err = diagOne(unix.AF_INET, src, dst)
	if errors.Is(err, errNoSocket) {
		m := func(a netip.AddrPort) netip.AddrPort {
			return netip.AddrPortFrom(netip.AddrFrom16(a.Addr().As16()), a.Port())
		}
		uid, inode, err = diagOne(unix.AF_INET6, m(src), m(dst))
	}
	return uid, inode, err
}

func diagOne(family uint8, src, dst netip.AddrPort) (uint32, uint32, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return 0, 0, fmt.Errorf("sock_diag: %w", err)
	}
	defer unix.Close(fd)
	// Answer timeout: the kernel answers at once; a bound all the same.
	tv := unix.Timeval{Sec: 2}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)

	req := make([]byte, nlmsgHdrLen+diagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(req[8:], 1) // seq
	r := req[nlmsgHdrLen:]
	r[0], r[1] = family, unix.IPPROTO_TCP
	ne.PutUint32(r[4:], 0xffffffff) // every state
	id := r[8:]
	binary.BigEndian.PutUint16(id[0:], src.Port())
	binary.BigEndian.PutUint16(id[2:], dst.Port())
	if family == unix.AF_INET {
		a, b := src.Addr().As4(), dst.Addr().As4()
		copy(id[4:], a[:])
		copy(id[20:], b[:])
	} else {
		a, b := src.Addr().As16(), dst.Addr().As16()
		copy(id[4:], a[:])
		copy(id[20:], b[:])
	}
	ne.PutUint32(id[40:], 0xffffffff) // INET_DIAG_NOCOOKIE
	ne.PutUint32(id[44:], 0xffffffff)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, 0, fmt.Errorf("sock_diag: %w", err)
	}
	// The answer for one socket is a header and an inet_diag_msg (88
	// bytes, no attributes were asked for). The buffer is on the
	// goroutine's stack: 8 KiB here grew the stack of every connection's
	// goroutine (the check runs on it) and, through Go's adaptive
	// initial stack size, of every goroutine the agent starts.
	var b [512]byte
	n, _, err := unix.Recvfrom(fd, b[:], unix.MSG_TRUNC)
	if err != nil {
		return 0, 0, fmt.Errorf("sock_diag: %w", err)
	}
	if n > len(b) {
		return 0, 0, fmt.Errorf("sock_diag: an answer of %d bytes, longer than one socket's", n)
	}
	buf := b[:n]
	if len(buf) < nlmsgHdrLen {
		return 0, 0, errors.New("sock_diag: short answer")
	}
	l, typ := ne.Uint32(buf[0:]), ne.Uint16(buf[4:])
	if int(l) > len(buf) || l < nlmsgHdrLen {
		return 0, 0, errors.New("sock_diag: bad answer length")
	}
	body := buf[nlmsgHdrLen:l]
	switch typ {
	case unix.NLMSG_ERROR:
		if len(body) < 4 {
			return 0, 0, errors.New("sock_diag: short error")
		}
		errno := -int32(ne.Uint32(body))
		if unix.Errno(errno) == unix.ENOENT {
			return 0, 0, errNoSocket
		}
		return 0, 0, fmt.Errorf("sock_diag: %w", unix.Errno(errno))
	case unix.SOCK_DIAG_BY_FAMILY:
	default:
		return 0, 0, fmt.Errorf("sock_diag: answer of type %d", typ)
	}
	if len(body) < diagMsgLen {
		return 0, 0, errors.New("sock_diag: short answer")
	}
	// The socket answered must be the one asked for.
	got := body[4 : 4+sockIDLen]
	if string(got[0:4]) != string(id[0:4]) || string(got[4:36]) != string(id[4:36]) {
		return 0, 0, errors.New("sock_diag: the answer is another socket")
	}
	return ne.Uint32(body[4+sockIDLen+12:]), ne.Uint32(body[4+sockIDLen+16:]), nil
}
