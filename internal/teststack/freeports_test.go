package teststack

import (
	"errors"
	"testing"
)

func TestOnFreePortsRetriesOnlyPortClashes(t *testing.T) {
	for _, c := range []struct {
		name      string
		errs      []error
		wantCalls int
		wantErr   bool
	}{
		{"first start works", []error{nil}, 1, false},
		{"clash, then works", []error{errors.New("consul exited before a leader (exit 1); log:\nlisten tcp 127.0.0.1:1: bind: address already in use"), nil}, 2, false},
		{"clashes three times", []error{errors.New("address already in use"), errors.New("address already in use"), errors.New("address already in use"), nil}, 3, true},
		{"other error is not retried", []error{errors.New("bad config"), nil}, 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			_, err := onFreePorts(func() (int, error) {
				err := c.errs[calls]
				calls++
				return calls, err
			})
			if calls != c.wantCalls || (err != nil) != c.wantErr {
				t.Errorf("calls %d, err %v; want %d calls, error %v", calls, err, c.wantCalls, c.wantErr)
			}
		})
	}
}
