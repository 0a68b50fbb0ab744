package store

import (
	"encoding/binary"
	"errors"
	"sync"

	"golang.org/x/sys/unix"
)

// dirWatch tells whether anything changed in a kcache directory since a
// given moment, for a long-running process that checks a generation on
// every request (the agent): a non-blocking read of one inotify instance
// (one system call, most often EAGAIN), instead of an open, a read and a
// close of the generation file each time. The kernel queues an event
// inside the rename or write that changes the directory, before that
// call returns, so a check made after another alilogin's write returned
// sees it: nothing is missed for lack of waiting.
//
// One inotify instance serves every directory the process watches (the
// user has at most 128 instances in all). A directory that cannot be
// watched (missing, the instance could not be made) is not watched:
// each check then reads the file, as before. A directory removed
// (IN_IGNORED), moved away or swapped for a symlink (IN_MOVE_SELF: the
// kernel keeps a moved directory's watch, so it is dropped here) is read
// again and watched anew at its path at the next check. A directory on a
// network file system (NFS, AFS, SMB, Ceph, Lustre, FUSE, 9p) is never
// watched: inotify reports only this kernel's writes, not another host's
// logout on a shared home (lxplus), so each check reads the file. Not
// seen: a parent of the directory moved or replaced while the directory
// itself stays as it was (the watch follows the directory, not its path).
type dirWatch struct {
	mu   sync.Mutex
	fd   int            // -1: no instance (yet)
	dirs map[string]int // directory -> watch descriptor
	// remote: directories found on a network file system, never
	// watched; kept so that statfs is asked once, not on every check.
	remote map[string]bool
	wds    map[int]string
	epoch  uint64 // moves whenever an event was read
	buf    [4096]byte
}

var watches = &dirWatch{fd: -1, dirs: map[string]int{}, wds: map[int]string{}, remote: map[string]bool{}}

const watchMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

// poll reads the events queued so far and returns the epoch, and whether
// dir is watched (else the caller must read the file every time).
func (w *dirWatch) poll(dir string) (epoch uint64, watched bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fd < 0 {
		fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
		if err != nil {
			return 0, false
		}
		w.fd = fd
	}
	w.drain()
	if _, ok := w.dirs[dir]; !ok {
		if w.remote[dir] {
			return w.epoch, false
		}
		if remoteFS(dir) {
			w.remote[dir] = true
			return w.epoch, false
		}
		wd, err := unix.InotifyAddWatch(w.fd, dir, watchMask)
		if err != nil {
			return w.epoch, false
		}
		// A new watch: what was read before it may be stale.
		w.epoch++
		w.dirs[dir], w.wds[wd] = wd, dir
	}
	return w.epoch, true
}

// drain reads every queued event: any moves the epoch; a watch the
// kernel dropped (its directory removed or moved) is forgotten.
func (w *dirWatch) drain() {
	for {
		n, err := unix.Read(w.fd, w.buf[:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n <= 0 {
			return // EAGAIN: nothing more
		}
		w.epoch++
		b := w.buf[:n]
		for len(b) >= unix.SizeofInotifyEvent {
			wd := int(int32(binary.NativeEndian.Uint32(b[0:])))
			mask := binary.NativeEndian.Uint32(b[4:])
			l := int(binary.NativeEndian.Uint32(b[12:]))
			if mask&(unix.IN_IGNORED|unix.IN_MOVE_SELF|unix.IN_DELETE_SELF) != 0 {
				if d, ok := w.wds[wd]; ok {
					// The path no longer names this directory: watch
					// the path again at the next check.
					delete(w.dirs, d)
					delete(w.wds, wd)
					if mask&unix.IN_IGNORED == 0 {
						_, _ = unix.InotifyRmWatch(w.fd, uint32(wd))
					}
				}
			}
			if unix.SizeofInotifyEvent+l > len(b) {
				break
			}
			b = b[unix.SizeofInotifyEvent+l:]
		}
	}
}

// remoteFS tells whether dir is on a file system whose other clients'
// writes inotify never reports (statfs(2) magic numbers); unknown: no.
var remoteFS = func(dir string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return false
	}
	switch uint32(st.Type) {
	case unix.NFS_SUPER_MAGIC, unix.AFS_SUPER_MAGIC, 0x6B414653, /* kAFS */
		unix.CIFS_SUPER_MAGIC, unix.SMB_SUPER_MAGIC, unix.SMB2_SUPER_MAGIC, unix.CEPH_SUPER_MAGIC,
		0x0BD00BD0 /* Lustre */, unix.FUSE_SUPER_MAGIC, unix.V9FS_MAGIC, unix.CODA_SUPER_MAGIC,
		unix.OCFS2_SUPER_MAGIC, 0x01161970 /* GFS2 */ :
		return true
	}
	return false
}

// watcher is the generation reader of one profile in g's directory.
func (g generations) watcher(profile string) func() Gen {
	var mu sync.Mutex
	var (
		known bool
		epoch uint64
		gen   Gen
	)
	return func() Gen {
		e, watched := watches.poll(g.dir)
		mu.Lock()
		defer mu.Unlock()
		if watched && known && e == epoch {
			return gen
		}
		// The epoch is taken before the read: a change during it moves
		// the epoch and the next check reads again.
		gen = g.current(profile)
		known, epoch = watched, e
		return gen
	}
}
