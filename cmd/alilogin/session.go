package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/session"
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
	return session.Open(e.session(), o.options(false))
}

// ensureOptions are the session's options of --for (every kind the
// record holds when empty), --min-ttl and --verbose (env and exec).
func ensureOptions(forFlag []string, minTTL time.Duration, verbose bool) (session.EnsureOptions, error) {
	kinds, err := session.ParseKinds(forFlag)
	return session.EnsureOptions{Kinds: kinds, MinTTL: minTTL, Verbose: verbose}, err
}
