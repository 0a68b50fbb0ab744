package store

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// kernelKeyctl is keyctlOps on the system calls, on "user" keys in the
// user keyring.
type kernelKeyctl struct{}

func systemKeyctl() keyctlOps { return kernelKeyctl{} }

func (kernelKeyctl) addPrivate(desc string, payload []byte) (int, error) {
	return unix.AddKey("user", desc, payload, unix.KEY_SPEC_PROCESS_KEYRING)
}

func (kernelKeyctl) link(id int) error {
	_, err := unix.KeyctlInt(unix.KEYCTL_LINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0)
	return err
}

func (kernelKeyctl) unlinkPrivate(id int) error {
	_, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_PROCESS_KEYRING, 0, 0)
	return err
}

func (kernelKeyctl) search(desc string) (int, error) {
	return unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", desc, 0)
}

func (kernelKeyctl) read(id int, buf []byte) (int, error) {
	return unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
}

func (kernelKeyctl) setTimeout(id int, seconds uint) error {
	_, err := unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, int(seconds), 0, 0)
	return err
}

func (kernelKeyctl) setPerm(id int, perm uint32) error { return unix.KeyctlSetperm(id, perm) }

func (kernelKeyctl) invalidate(id int) error {
	_, err := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
	return err
}

func (kernelKeyctl) unlink(id int) error {
	_, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0)
	return err
}

func (kernelKeyctl) list() ([]int, error) {
	buf := make([]byte, 4096)
	for {
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, unix.KEY_SPEC_USER_KEYRING, buf, 0)
		if err != nil {
			return nil, err
		}
		if n <= len(buf) {
			ids := make([]int, 0, n/4)
			for i := 0; i+4 <= n; i += 4 {
				ids = append(ids, int(int32(binary.NativeEndian.Uint32(buf[i:]))))
			}
			return ids, nil
		}
		buf = make([]byte, n)
	}
}

func (kernelKeyctl) describe(id int) (string, error) {
	return unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
}

// readSmall reads the file at path into buf in three system calls (open,
// one read, close), without the runtime poller; ok is false when it
// cannot. One read is enough for the small regular files it is used on;
// a file larger than buf reads as len(buf) bytes.
func readSmall(path string, buf []byte) (n int, ok bool) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return 0, false
	}
	defer unix.Close(fd)
	n, err = unix.Read(fd, buf)
	return n, err == nil && n >= 0
}
