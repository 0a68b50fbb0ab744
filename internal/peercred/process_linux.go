package peercred

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
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
	pids, err := newestFirst()
	if err != nil {
		return 0, "", fmt.Errorf("could not find the client process: %w", err)
	}
	for _, n := range pids {
		// The scan runs beside the requests of a process with one P
		// (the agent's GOMAXPROCS): its short system calls do not give
		// the P up, so it does after each process.
		runtime.Gosched()
		name := strconv.Itoa(n)
		fds := filepath.Join("/proc", name, "fd")
		ents, err := os.ReadDir(fds)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if t, err := os.Readlink(filepath.Join(fds, e.Name())); err == nil && t == want {
				exe, _ := os.Readlink(filepath.Join("/proc", name, "exe"))
				return n, exe, nil
			}
		}
	}
	return 0, "", fmt.Errorf("could not find the client process of the connection from %s: %w", r, fs.ErrNotExist)
}

// newestFirst are the pids of /proc, the most recently started first:
// pids are handed out upwards from the last one given
// (/proc/sys/kernel/ns_last_pid) and wrap around at pid_max, so the
// newest are those at or below the last, highest first, then those above
// it, highest first. A client of the agent is most often a process that
// has just started (a CLI), so that the scan of the fd directories, a
// readlink for each descriptor of each of the user's processes
// (thousands on a shared host, tens of milliseconds of CPU), mostly
// stops after a few.
func newestFirst() ([]int, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(names))
	for _, s := range names {
		if n, err := strconv.Atoi(s); err == nil {
			pids = append(pids, n)
		}
	}
	last := math.MaxInt
	var buf [32]byte
	if n, err := readFile("/proc/sys/kernel/ns_last_pid", buf[:]); err == nil {
		if l, err := strconv.Atoi(strings.TrimSpace(string(buf[:n]))); err == nil {
			last = l
		}
	}
	slices.SortFunc(pids, func(a, b int) int {
		if (a <= last) != (b <= last) {
			if a <= last {
				return -1
			}
			return 1
		}
		return b - a
	})
	return pids, nil
}

// readFile reads the start of a small file into buf.
func readFile(name string, buf []byte) (int, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return f.Read(buf)
}
