package main

import (
	"errors"
	"fmt"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
)

// The domain says what is wrong; the command line says what to type to
// get past it. withHint adds that to the errors that have such a
// command, once: root's run for every command's final error, loginError
// for the errors of a stored login that are shown as text (status, the
// hook, the agent's answers), and the places that wrap an error in more
// text first (keepSignIn).

// hinted is an error with the command that fixes it after it.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() + h.hint }
func (h *hinted) Unwrap() error { return h.err }

// withHint is err with its hint (hintFor), or err itself when it has
// none or has it already.
func withHint(err error) error {
	if err == nil || errors.As(err, new(*hinted)) {
		return err
	}
	if h := hintFor(err); h != "" {
		return &hinted{err: err, hint: h}
	}
	return err
}

// hintFor is the text that follows err: what to run.
func hintFor(err error) string {
	var (
		corrupt   *store.CorruptError
		notChosen *session.NotChosenError
		current   *session.CurrentFileError
		several   *session.SeveralProfilesError
	)
	switch {
	case errors.As(err, &corrupt) && config.ValidProfileName(corrupt.Profile):
		return fmt.Sprintf("; run: alilogin login --profile %s (or remove it with: alilogin logout --profile %s)", corrupt.Profile, corrupt.Profile)
	case errors.As(err, &notChosen):
		if notChosen.AllowAll {
			return "; choose one with --profile, or make one current: alilogin use PROFILE, or use --all"
		}
		return "; choose one with --profile, or make one current: alilogin use PROFILE"
	case errors.As(err, &current):
		if current.NotRegular {
			return "; set the current profile with: alilogin use PROFILE (or remove it)"
		}
		return "; set one with: alilogin use PROFILE (or remove the file)"
	case errors.Is(err, session.ErrNoProfileToChoose):
		return "; use --profile NAME, or get the profiles from your broker with: alilogin setup --broker URL"
	case errors.As(err, &several):
		return "; choose one with --profile (or make one current: alilogin use PROFILE, or set default_profile in the config file)"
	case session.UnknownNoneListed(err):
		return ",\n  or get them from your broker with: alilogin setup --broker URL"
	}
	return ""
}
