package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/exitcode"
	"github.com/alisw/alilogin/internal/renew"
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
		return exitcode.With(exitLoginNeeded, fmt.Errorf("%w; run: alilogin login", err))
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
	return exitcode.With(exitLoginNeeded, fmt.Errorf("not logged in for profile %s; run: alilogin login --profile %s", profile, profile))
}

// loginError turns the errors of the store and the renewal chain
// (internal/session) into what the user should do next: the hint and the
// exit code.
func loginError(profile string, err error) error {
	var ce *store.CorruptError
	switch {
	case err == nil:
		return nil
	case isMismatch(err):
		return exitcode.With(exitMismatch, fmt.Errorf("%w; %s", err, mismatchFix(err, profile)))
	case errors.As(err, new(*renew.BindingError)), errors.As(err, new(*renew.IdentityChangedError)), errors.As(err, new(*renew.ServerBindingError)):
		return exitcode.With(exitLoginNeeded, fmt.Errorf("%w; run: alilogin login --profile %s", err, profile))
	case errors.Is(err, renew.ErrLoginNeeded):
		return loginNeeded(profile)
	case errors.As(err, &ce):
		return fmt.Errorf("%w (or remove it with: alilogin logout --profile %s)", err, profile)
	}
	return err
}

// isMismatch reports whether err is a stored login made with another
// Vault, Nomad, Consul or SSO issuer (or OIDC client id) than the
// configured one: a login that is fine where it was made, which a new
// login would replace and revoke. A login that names none (an earlier
// alilogin's) is not a mismatch but a login needed.
func isMismatch(err error) bool {
	var sb *renew.ServerBindingError
	if errors.As(err, &sb) {
		return !sb.Unrecorded
	}
	var b *renew.BindingError
	return errors.As(err, &b) && b.Issuer != "" && b.ClientID != ""
}

// mismatchFix says how to use the login, or another one, after a
// isMismatch: unset (or correct) what names the other server, or log in
// for it, knowing that this replaces the login.
func mismatchFix(err error, profile string) string {
	env := "ALILOGIN_ISSUER or ALILOGIN_CLIENT_ID"
	var sb *renew.ServerBindingError
	if errors.As(err, &sb) {
		x := envcontract.For(sb.Server)
		env = x.Addr
		if sb.Trust {
			env = x.CACert + ", " + x.TLSServerName + " or SSL_CERT_FILE"
		}
	}
	return fmt.Sprintf("to use this login, unset %s (or correct the configuration that names the other one); to use the other one instead: alilogin login --profile %s, which replaces this login and revokes its tokens", env, profile)
}
