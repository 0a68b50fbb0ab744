package store

import "golang.org/x/sys/unix"

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
