package main

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// uiOptions are the flags of `alilogin ui`.
type uiOptions struct {
	sessionOptions
	Print bool
	UI    agent.Kind
}

func newUICmd(e *cmdEnv) *cobra.Command {
	o := &uiOptions{}
	c := &cobra.Command{
		Use:   "ui nomad|consul",
		Short: "Open the Nomad or Consul web UI through the agent, signed in",
		Long: `Open the web UI of Nomad or Consul in the browser through the alilogin agent
(started when none runs), signed in with the profile's token: the agent presents
the client certificate and puts in the token, the browser holds neither.

The browser is given a one-time link (http://nomad.localhost:PORT/...) that
sets a session cookie for this browser and opens the UI; the link works once
and for 5 minutes. The session ends with 'alilogin logout' or when the agent
stops. With --print (and where no browser can be shown) the link is printed
instead: over SSH, forward the same port first (ssh -L PORT:127.0.0.1:PORT),
then open it in the browser of your own computer.

Vault's web UI is not served: use the vault CLI through the agent
('alilogin exec --agent -- vault ...').`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"nomad", "consul"},
		RunE: func(c *cobra.Command, args []string) error {
			k, err := store.ParseKind(args[0])
			if err != nil || !agent.HasUI(k) {
				msg := fmt.Sprintf("unknown web UI %q: want nomad or consul", termtext.Clean(args[0]))
				if k == agent.Vault {
					msg = "Vault's web UI is not served through the agent; use the vault CLI: alilogin exec --agent -- vault ..."
				}
				return cmdroot.With(exitUsage, fmt.Errorf("%s", msg))
			}
			o.UI = k
			return runUI(c.Context(), e, o)
		},
	}
	addSessionFlags(c, &o.sessionOptions)
	c.Flags().BoolVar(&o.Print, "print", false, "print the one-time link instead of opening a browser")
	return c
}

// runUI asks the agent for a one-time link to o.UI's web UI and opens
// it, or prints it.
func runUI(ctx context.Context, e *cmdEnv, o *uiOptions) error {
	s, err := openSession(e, o.sessionOptions)
	if err != nil {
		return err
	}
	dir, err := runningAgent(ctx, e)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	a, err := agent.Call(cctx, dir, agent.Request{Op: "ui", Profile: s.Profile, Kinds: []agent.Kind{o.UI}, Env: e.environ()})
	if err != nil {
		return err
	}
	if a.LoginNeeded {
		return loginNeeded(s.Profile)
	}
	if a.Error != "" || a.URL == "" {
		return fmt.Errorf("could not open the %s web UI of profile %s: %s", o.UI, s.Profile, termtext.Clean(a.Error))
	}
	link, err := url.Parse(a.URL)
	if err != nil {
		return fmt.Errorf("could not read the agent's link: %w", err)
	}
	port := link.Port()
	if o.Print || !session.CanShowBrowser(e.getenv) {
		fmt.Fprintln(e.Stdout, a.URL)
		fmt.Fprintf(e.Stderr, "alilogin: open this link in a browser on this computer (it works once, for 5 minutes).\n"+
			"Over SSH, forward the same port first: ssh -L %s:127.0.0.1:%s HOST, then open it on your own computer.\n", port, port)
		return nil
	}
	fmt.Fprintf(e.Stderr, "alilogin: opening the %s web UI of profile %s in the browser: %s\n", o.UI, s.Profile, a.URL)
	if err := session.OpenBrowser(e.Stderr, a.URL); err != nil {
		fmt.Fprintf(e.Stderr, "alilogin: could not open a browser (%v); open the link above yourself (it works once, for 5 minutes)\n", err)
	}
	return nil
}
