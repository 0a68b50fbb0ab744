package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// elevateOptions are the flags and arguments of `alilogin elevate`.
type elevateOptions struct {
	sessionOptions
	For       time.Duration
	Uses      int
	NoBrowser bool
	Listen    string
	Timeout   time.Duration
	End       bool
	Command   []string
}

func newElevateCmd(e *cmdEnv) *cobra.Command {
	o := &elevateOptions{}
	c := &cobra.Command{
		Use:   "elevate [flags] [-- COMMAND [ARGS...]]",
		Short: "Open an attended window: write and admin rights after a fresh sign-in, held by the agent",
		Long: `Sign in again in the browser (the SSO shows its login page even when its
session is live) for the profile's attended tier, and open a short window in
which the alilogin agent lets writes through: the privileged Vault token and
its Nomad and Consul tokens live in the agent's memory only, never in the
keyring, a file, an environment or stdout. Outside a window, the profile's
agent routes are read-only.

With COMMAND, it runs COMMAND with elevated gates (as 'alilogin exec --agent'
does with ordinary ones), reusing the open window without a new sign-in when
there is one. Without COMMAND, it opens the window; run commands in it with
'alilogin exec --agent --elevated -- COMMAND'. The window ends at --for, after
--uses writes, at 'alilogin elevate --end' or 'alilogin logout', or when the
agent stops: its Vault token is revoked (with it the Nomad and Consul tokens),
and the requests and streams opened with it are closed.

Over SSH: --no-browser prints the sign-in URL; forward the callback port
first (ssh -L 8250:127.0.0.1:8250 HOST) and open the URL on your machine.`,
		Example: `  alilogin elevate --profile ci -- nomad system gc
  alilogin elevate --profile ci --for 5m --uses 3
  alilogin exec --agent --elevated --profile ci -- nomad job run job.nomad
  alilogin elevate --profile ci --end`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			o.Command = args
			if err := (session.ElevateOptions{Listen: o.Listen}).CheckListen(); err != nil {
				return cmdroot.With(exitUsage, err)
			}
			if o.For < 0 || o.Uses < 0 {
				return cmdroot.With(exitUsage, errors.New("--for and --uses must not be negative"))
			}
			if o.End && (len(args) > 0 || c.Flags().Changed("for") || c.Flags().Changed("uses")) {
				return cmdroot.With(exitUsage, errors.New("--end takes no COMMAND, --for or --uses"))
			}
			return runElevate(c.Context(), e, o)
		},
	}
	addSessionFlags(c, &o.sessionOptions)
	f := c.Flags()
	f.DurationVar(&o.For, "for", 0, "length of the window, at most the tier's (default: the tier's window)")
	f.IntVar(&o.Uses, "uses", 0, "how many writes the window allows, at most the tier's budget (default: the tier's; 0: no budget)")
	f.BoolVar(&o.NoBrowser, "no-browser", false, "do not open a browser; only print the URL (over ssh -L)")
	f.StringVar(&o.Listen, "listen", "", "127.0.0.1:PORT for the sign-in's callback (default: the first free of 127.0.0.1:8250, :18250, :28250)")
	f.DurationVar(&o.Timeout, "timeout", session.SignInTimeout, "how long to wait for the sign-in")
	f.BoolVar(&o.End, "end", false, "end the profile's open window now (its tokens are revoked)")
	f.SetInterspersed(false) // flags after COMMAND are COMMAND's
	return c
}

func runElevate(ctx context.Context, e *cmdEnv, o *elevateOptions) error {
	if len(o.Command) > 0 {
		if err := session.RefuseNesting(e.getenv); err != nil {
			return err
		}
	}
	s, err := openSession(e, o.sessionOptions)
	if err != nil {
		return err
	}
	if o.End {
		return endWindow(ctx, e, s.Profile)
	}
	tier, err := s.Tier()
	if err != nil {
		return err
	}
	var path string
	var kinds []store.Kind // COMMAND's gates: exec's default --for
	if len(o.Command) > 0 {
		if path, err = exec.LookPath(o.Command[0]); err != nil {
			return cmdroot.With(exitNotFound, fmt.Errorf("could not find command %s: %w", o.Command[0], err))
		}
		if kinds, err = session.ParseKinds(defaultFor(o.Command[0])); err != nil {
			return err
		}
	}
	dir, err := agentDir(e)
	if err != nil {
		return err
	}
	if _, err := ensureAgent(ctx, e, dir); err != nil {
		return err
	}
	// The agent loads the ordinary login first: without one, no sign-in
	// for nothing.
	if _, err := openAgent(ctx, e, s.Profile, nil); err != nil {
		return err
	}
	if len(o.Command) > 0 {
		// A window open already serves COMMAND, as sudo's timestamp does.
		if a, err := agent.Call(ctx, dir, agent.Request{Op: "elevated", Profile: s.Profile, Kinds: kinds}); err == nil && a.Error == "" && len(a.Gates) > 0 {
			fmt.Fprintf(e.Stderr, "alilogin: using the attended window of profile %s (%s)\n", s.Profile, windowText(a.Window, e.now()))
			return execCommand(path, o.Command, a.Child(s.Profile, e.environ()))
		}
	}
	g, err := s.Elevate(ctx, tier, session.ElevateOptions{For: o.For, Uses: o.Uses, NoBrowser: o.NoBrowser, Listen: o.Listen, Timeout: o.Timeout, Progress: true,
		Commands: session.SignInCommands{Again: "alilogin elevate"}})
	if err != nil {
		if session.SignInEnded(err) {
			return fmt.Errorf("%w; run alilogin elevate again", err)
		}
		return err
	}
	for _, w := range g.Warnings {
		fmt.Fprintf(e.Stderr, "warning: %s\n", termtext.Clean(w))
	}
	el := &agent.Elevation{Until: g.Until, Uses: g.Uses}
	for _, k := range []store.Kind{store.Vault, store.Nomad, store.Consul} {
		var t *store.Token
		switch k {
		case store.Vault:
			t = g.Vault
		case store.Nomad:
			t = g.Nomad
		case store.Consul:
			t = g.Consul
		}
		if t != nil {
			el.Tokens = append(el.Tokens, agent.Wire(k, t))
		}
	}
	a, err := agent.Call(ctx, dir, agent.Request{Op: "elevate", Profile: s.Profile, Env: e.environ(), Elevation: el, Kinds: kinds})
	if err == nil && a.Error != "" {
		err = errors.New(termtext.Clean(a.Error))
	}
	if err != nil {
		// The agent did not take the tokens: they go now (the agent
		// revokes them itself when it refused them after loading the
		// profile; a second revocation changes nothing).
		_ = s.RevokeElevated(g)
		return fmt.Errorf("could not hand the attended window to the agent: %w", err)
	}
	fmt.Fprintf(e.Stderr, "alilogin: attended window of profile %s open (%s)\n", s.Profile, windowText(a.Window, e.now()))
	if len(o.Command) > 0 {
		return execCommand(path, o.Command, a.Child(s.Profile, e.environ()))
	}
	fmt.Fprintf(e.Stderr, "  run commands in it with: alilogin exec --agent --elevated --profile %s -- COMMAND\n  end it with: alilogin elevate --end --profile %s\n", s.Profile, s.Profile)
	return nil
}

// openElevated is exec --agent --elevated: the elevated gates of the
// profile's open window (for the routes of kinds; all when empty).
func openElevated(ctx context.Context, e *cmdEnv, profile string, kinds []store.Kind) (*agent.Answer, error) {
	a, err := agent.CallRunning(ctx, e.getenv, agent.Request{Op: "elevated", Profile: profile, Kinds: kinds})
	if errors.Is(err, agent.ErrNotRunning) {
		return nil, fmt.Errorf("no attended window is open for profile %s (no agent runs); run: alilogin elevate --profile %s", profile, profile)
	}
	if err != nil {
		return nil, err
	}
	if a.Error != "" {
		return nil, errors.New(termtext.Clean(a.Error))
	}
	return a, nil
}

// addElevatedRefusal adds --elevated to token and env, which refuse it:
// someone who looks for the privileged tokens there learns why they are
// not and where they are.
func addElevatedRefusal(c *cobra.Command) {
	c.Flags().Bool("elevated", false, "refused: the tokens of an attended window stay in the agent (see alilogin elevate)")
}

// elevatedStaysInAgent is token's and env's refusal of --elevated.
func elevatedStaysInAgent(cmd string) error {
	return cmdroot.With(exitError, fmt.Errorf("alilogin %s does not hand out the tokens of an attended window: they stay in the alilogin agent's memory, so that only commands run with elevated gates use them and nothing keeps them past the window; run: alilogin elevate --profile P -- COMMAND, or alilogin exec --agent --elevated -- COMMAND", cmd))
}

// addWindows fills the open attended windows of the agent, if one runs,
// into out (status); an agent that does not answer within a second
// leaves them out.
func addWindows(ctx context.Context, e *cmdEnv, out []session.Status) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	a, err := agent.CallRunning(ctx, e.getenv, agent.Request{Op: "status"})
	if err != nil || a.Status == nil {
		return
	}
	for _, p := range a.Status.Profiles {
		if p.Window == nil {
			continue
		}
		for i := range out {
			if out[i].Profile == p.Name {
				w := p.Window
				out[i].AttendedWindow = &session.WindowStatus{Until: w.Until, Uses: w.Uses, Used: w.Used, Left: w.Left}
			}
		}
	}
}

// endWindow is elevate --end.
func endWindow(ctx context.Context, e *cmdEnv, profile string) error {
	a, err := agent.CallRunning(ctx, e.getenv, agent.Request{Op: "end", Profile: profile})
	if errors.Is(err, agent.ErrNotRunning) {
		fmt.Fprintf(e.Stderr, "alilogin: no attended window is open for profile %s (no agent runs)\n", profile)
		return nil
	}
	if err != nil {
		return err
	}
	if a.Error != "" {
		return fmt.Errorf("could not end the attended window of profile %s: %s", profile, termtext.Clean(a.Error))
	}
	if a.Window == nil {
		fmt.Fprintf(e.Stderr, "alilogin: no attended window is open for profile %s\n", profile)
		return nil
	}
	fmt.Fprintf(e.Stderr, "alilogin: the attended window of profile %s is closed; its tokens are revoked\n", profile)
	return nil
}

// windowText says what is left of a window: "until 15:04:05, 4m0s left,
// 2 of 3 writes left".
func windowText(w *agent.WindowStatus, now time.Time) string {
	if w == nil {
		return "no window"
	}
	s := fmt.Sprintf("until %s, %s left", w.Until.Local().Format("15:04:05"), w.Until.Sub(now).Round(time.Second))
	if w.Uses > 0 {
		s += fmt.Sprintf(", %d of %d writes left", w.Left, w.Uses)
	} else {
		s += ", no write budget"
	}
	return s
}
