package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
)

// addStatusShortFlag adds --short to status.
func addStatusShortFlag(c *cobra.Command, short *bool) {
	c.Flags().BoolVar(short, "short", false, "one short line for a prompt (e.g. \"ci 42m\"), from the stored record only, and the agent's attended window")
}

// runStatusShort prints "PROFILE 42m", "PROFILE expired" or
// "PROFILE logged out" from the stored record alone: no server is asked,
// and the kernel cache, when it has the record, answers without D-Bus.
// A running agent that holds an attended window of the profile adds it
// ("PROFILE 42m elevated 8m").
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
	fmt.Fprintf(e.Stdout, "%s %s%s\n", s.Profile, shortDuration(left), shortWindow(e, s.Profile, now))
	return nil
}

// shortWindow is " elevated 8m" (" elevated 8m (2 writes)" with a use
// budget) while the agent holds an open attended window of profile, else
// "". Only a running agent is asked, over its control socket, and one
// that does not answer within shortWindowWait is left out: a prompt must
// not wait.
func shortWindow(e *cmdEnv, profile string, now time.Time) string {
	ctx, cancel := context.WithTimeout(context.Background(), shortWindowWait)
	defer cancel()
	a, err := agent.CallRunning(ctx, e.getenv, agent.Request{Op: "status"})
	if err != nil || a.Status == nil {
		return ""
	}
	for _, p := range a.Status.Profiles {
		w := p.Window
		if p.Name != profile || w == nil || !w.Until.After(now) {
			continue
		}
		s := " elevated " + shortDuration(w.Until.Sub(now))
		if w.Uses > 0 {
			s += fmt.Sprintf(" (%d writes)", w.Left)
		}
		return s
	}
	return ""
}

// shortWindowWait bounds status --short's question to the agent.
const shortWindowWait = 300 * time.Millisecond

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
