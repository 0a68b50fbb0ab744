//go:build !linux

package store

// FastKeyringGet is only implemented for the Secret Service (Linux); see
// fastread_linux.go.
func FastKeyringGet(profile string) (r *Record, ok bool, err error) { return nil, false, nil }

// FastKeyringUpdate: see fastread_linux.go.
func FastKeyringUpdate(r *Record) (ok bool) { return false }
