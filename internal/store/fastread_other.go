//go:build !linux

package store

// FastKeyringGet is only implemented for the Secret Service (Linux); see
// fastread_linux.go.
func FastKeyringGet(getenv func(string) string, profile string) (r *Record, ok bool, err error) {
	return nil, false, nil
}

// FastKeyringUpdate: see fastread_linux.go.
func FastKeyringUpdate(getenv func(string) string, r *Record) (ok bool) { return false }

// ssConn: see fastread_linux.go.
type ssConn struct{}

func (*ssConn) get(getenv func(string) string, profile string) (*Record, bool, error) {
	return nil, false, nil
}

func (*ssConn) update(getenv func(string) string, r *Record) bool { return false }

func (*ssConn) close() {}
