package peercred

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// Process finds the process that holds the client end of the loopback
// TCP connection accepted on local from remote, and its executable: the
// socket's inode (sock_diag, else /proc/net/tcp*), then the /proc/<pid>/fd link that
// names it. Best effort, for logs (the agent's audit log): it reads every
// process's fd directory it may (the user's own), so it is slow compared
// to Lookup, and the client may have closed or passed the socket on
// meanwhile. exe is "" when /proc/<pid>/exe cannot be read. The inode
// comes from sock_diag where it answers (diag_linux.go).
func Process(local, remote net.Addr) (pid int, exe string, err error) {
	la, lok := local.(*net.TCPAddr)
	ra, rok := remote.(*net.TCPAddr)
	if !lok || !rok {
		return 0, "", errors.New("could not find the client process: not TCP")
	}
	l, r := unmap(la.AddrPort()), unmap(ra.AddrPort())
	var inode uint64
	if _, ino, err := diagSocket(r, l); err == nil {
		inode = uint64(ino)
	}
	for _, name := range tables {
		if inode != 0 {
			break
		}
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		s, err := findSockets(f, binary.NativeEndian, r, l)
		f.Close()
		if err == nil && len(s) == 1 && s[0].inode != 0 {
			inode = s[0].inode
			break
		}
	}
	if inode == 0 {
		return 0, "", fmt.Errorf("could not find the client process of the connection from %s", r)
	}
	want := "socket:[" + strconv.FormatUint(inode, 10) + "]"
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, "", fmt.Errorf("could not find the client process: %w", err)
	}
	for _, p := range procs {
		n, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fds := filepath.Join("/proc", p.Name(), "fd")
		ents, err := os.ReadDir(fds)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if t, err := os.Readlink(filepath.Join(fds, e.Name())); err == nil && t == want {
				exe, _ := os.Readlink(filepath.Join("/proc", p.Name(), "exe"))
				return n, exe, nil
			}
		}
	}
	return 0, "", fmt.Errorf("could not find the client process of the connection from %s: %w", r, fs.ErrNotExist)
}
