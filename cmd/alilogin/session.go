package main

import (
	"context"
	"slices"
	"time"

	"github.com/spf13/cobra"

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
	return session.Open(e.session(), o.options(false))
}

// sessionFor opens the session and renews the tokens of forFlag's kinds
// (all the record has when empty), in one pass of the chain with the
// Vault token too when vault is set (exec --secret reads with it). The
// kinds returned are forFlag's, resolved: those to hand out.
func sessionFor(ctx context.Context, e *cmdEnv, so sessionOptions, forFlag []string, minTTL time.Duration, verbose, vault bool) (*session.Session, *store.Record, []renew.Kind, error) {
	kinds, err := session.ParseKinds(forFlag)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := openSession(e, so)
	if err != nil {
		return nil, nil, nil, err
	}
	ensure := kinds
	if vault && len(kinds) > 0 && !slices.Contains(kinds, renew.Vault) {
		ensure = append(slices.Clip(kinds), renew.Vault)
	}
	rec, got, err := s.Ensure(ctx, session.EnsureOptions{Kinds: ensure, MinTTL: minTTL, Verbose: verbose, CertFiles: true})
	if err != nil {
		return nil, nil, nil, err
	}
	if len(kinds) == 0 {
		kinds = got
	}
	return s, rec, kinds, nil
}
