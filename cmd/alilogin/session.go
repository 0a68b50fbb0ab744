package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
)

// This file is what token, env, exec, status and logout share: the
// session flags, and the command's outside world as internal/session
// takes it. Profile choice, the store and the renewal chain are there.

// sessionOptions are the flags every session command has.
type sessionOptions struct {
	Profile string
	Store   string
}

func addSessionFlags(c *cobra.Command, o *sessionOptions) {
	c.Flags().StringVarP(&o.Profile, "profile", "p", "", "profile to use (default: ALILOGIN_PROFILE, the current profile (alilogin use), default_profile, or the only stored one)")
	c.Flags().StringVar(&o.Store, "store", "", "where logins are kept: keyring or file (default: ALILOGIN_STORE, else automatic)")
}

// options are the flags as internal/session takes them; all is --all.
func (o sessionOptions) options(all bool) session.Options {
	return session.Options{Profile: o.Profile, Store: o.Store, All: all}
}

// session is the command's outside world as internal/session takes it.
func (e *cmdEnv) session() session.Env {
	return session.Env{Getenv: e.getenv, Stderr: e.Stderr, Now: e.Now, LockWait: e.LockWait}
}

func (e *cmdEnv) getenv(k string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(k)
}

// openSession opens the session o names (session.Open).
func openSession(e *cmdEnv, o sessionOptions) (*session.Session, error) {
	s, err := session.Open(e.session(), o.options(false))
	return s, notLoggedIn(err)
}

// notLoggedIn is err, with the hint and exit code when no login is
// stored at all (session.ErrNotLoggedIn).
func notLoggedIn(err error) error {
	if errors.Is(err, session.ErrNotLoggedIn) {
		return cmdroot.With(exitLoginNeeded, fmt.Errorf("%w; run: alilogin login", err))
	}
	return err
}

// ensure is s.Ensure (the tokens of o valid, through the renewal chain),
// its errors saying what to do next (loginError).
func ensure(ctx context.Context, s *session.Session, o session.EnsureOptions) (*store.Record, []store.Kind, error) {
	rec, kinds, err := s.Ensure(ctx, o)
	return rec, kinds, loginError(s.Profile, err)
}

// loginNeeded is the one-line hint and exit code for a profile that
// needs a new interactive login.
func loginNeeded(profile string) error {
	return cmdroot.With(exitLoginNeeded, fmt.Errorf("not logged in for profile %s; run: alilogin login --profile %s", profile, profile))
}

// loginError turns the errors of the store and the renewal chain
// (internal/session) into what the user should do next: the hint and the
// exit code.
func loginError(profile string, err error) error {
	if err == nil {
		return nil
	}
	if session.Mismatch(err) {
		return cmdroot.With(exitMismatch, fmt.Errorf("%w; to use this login, unset %s (or correct the configuration that names the other one); to use the other one instead: alilogin login --profile %s, which replaces this login and revokes its tokens",
			err, session.MismatchVars(err), profile))
	}
	switch needed, says := session.Unusable(err); {
	case needed && says:
		return cmdroot.With(exitLoginNeeded, fmt.Errorf("%w; run: alilogin login --profile %s", err, profile))
	case needed:
		return loginNeeded(profile)
	}
	return withHint(err) // hints.go
}

// ensureOptions are the session's options of --for (every kind the
// record holds when empty), --min-ttl and --verbose (env and exec).
func ensureOptions(forFlag []string, minTTL time.Duration, verbose bool) (session.EnsureOptions, error) {
	kinds, err := session.ParseKinds(forFlag)
	return session.EnsureOptions{Kinds: kinds, MinTTL: minTTL, Verbose: verbose}, err
}
