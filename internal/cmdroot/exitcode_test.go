package cmdroot

import (
	"errors"
	"fmt"
	"testing"
)

func TestCode(t *testing.T) {
	base := errors.New("boom")
	for _, tc := range []struct {
		name   string
		err    error
		code   int
		silent bool
		msg    string
	}{
		{"nil", nil, 0, false, ""},
		{"plain error", base, 9, false, "boom"},
		{"with code", With(4, base), 4, false, "boom"},
		{"wrapped", fmt.Errorf("ctx: %w", With(2, base)), 2, false, "ctx: boom"},
		{"silent", Silent(3), 3, true, "exit status 3"},
		{"wrapped silent", fmt.Errorf("x: %w", Silent(5)), 5, true, "x: exit status 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Code(tc.err, 9); got != tc.code {
				t.Errorf("Code = %d, want %d", got, tc.code)
			}
			if got := IsSilent(tc.err); got != tc.silent {
				t.Errorf("IsSilent = %v, want %v", got, tc.silent)
			}
			if tc.err != nil && tc.err.Error() != tc.msg {
				t.Errorf("Error() = %q, want %q", tc.err.Error(), tc.msg)
			}
		})
	}
	if With(1, nil) != nil {
		t.Error("With(1, nil) is not nil")
	}
	if !errors.Is(With(1, base), base) {
		t.Error("With does not unwrap")
	}
}
