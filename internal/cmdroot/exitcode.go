package cmdroot

import (
	"errors"
	"fmt"
)

// Error is an error with the exit code it should end the process with.
// Silent errors have been reported already (or exec passes its child's
// code on): nothing more is printed.
type Error struct {
	Code   int
	Err    error // nil for a silent exit
	silent bool
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// With attaches code to err; With(code, nil) is nil.
func With(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Silent ends the process with code and prints nothing more.
func Silent(code int) error { return &Error{Code: code, silent: true} }

// IsSilent reports whether err is (or wraps) a Silent exit.
func IsSilent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.silent
}

// Code is the exit code for err: 0 for nil, the code err carries, else
// fallback.
func Code(err error, fallback int) int {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return fallback
}
