package store

import (
	"encoding/binary"
	"strconv"

	"golang.org/x/sys/unix"
)

// kernelKeyctl is keyctlOps on the system calls, on "user" keys in the
// user keyring.
type kernelKeyctl struct{}

func systemKeyctl() keyctlOps { return kernelKeyctl{} }

func (kernelKeyctl) add(desc string, payload []byte) (int, error) {
	return unix.AddKey("user", desc, payload, unix.KEY_SPEC_USER_KEYRING)
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

// statGen is the generation of the file at path: one stat(2).
func statGen(path string) Gen {
	var st unix.Stat_t
	err := unix.Stat(path, &st)
	if err == unix.ENOENT {
		return genNone
	}
	if err != nil {
		return ""
	}
	b := make([]byte, 0, 96)
	for _, v := range []uint64{uint64(st.Dev), uint64(st.Ino), uint64(st.Size),
		uint64(st.Mtim.Sec), uint64(st.Mtim.Nsec), uint64(st.Ctim.Sec), uint64(st.Ctim.Nsec)} {
		b = strconv.AppendUint(b, v, 16)
		b = append(b, '.')
	}
	return Gen(b[:len(b)-1])
}
