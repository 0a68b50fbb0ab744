package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
)

// addStatusShortFlag adds --short to status.
func addStatusShortFlag(c *cobra.Command, short *bool) {
	c.Flags().BoolVar(short, "short", false, "one short line for a prompt (e.g. \"ci 42m\"), from the stored record only")
}

// runStatusShort prints "PROFILE 42m", "PROFILE expired" or
// "PROFILE logged out" from the stored record alone: no server is asked,
// and the kernel cache, when it has the record, answers without D-Bus.
// Exit code 0 while the tokens are valid, 4 otherwise.
func runStatusShort(e *cmdEnv, o *statusOptions) error {
	if o.All || o.JSON || o.ShowTokens {
		return cmdroot.With(exitUsage, errors.New("--short cannot be used with --all, --json or --show-tokens"))
	}
	s, err := openSession(e, o.sessionOptions)
	if err != nil {
		return err
	}
	rec, err := s.Store.Get(s.Profile)
	if session.NotStored(err) {
		fmt.Fprintf(e.Stdout, "%s logged out\n", s.Profile)
		return cmdroot.Silent(exitLoginNeeded)
	}
	if err != nil {
		return loginError(s.Profile, err)
	}
	now := e.now()
	expiry := rec.EarliestExpiry(store.Kinds...)
	left := expiry.Sub(now)
	if expiry.IsZero() || left <= 0 {
		fmt.Fprintf(e.Stdout, "%s expired\n", s.Profile)
		return cmdroot.Silent(exitLoginNeeded)
	}
	fmt.Fprintf(e.Stdout, "%s %s\n", s.Profile, shortDuration(left))
	return nil
}

// shortDuration is 45s, 42m, 3h12m or 2d3h.
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}
