package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/termtext"
)

// logoutOptions are the flags of `alilogin logout`.
type logoutOptions struct {
	sessionOptions
	All bool
}

func newLogoutCmd(e *cmdEnv) *cobra.Command {
	return newLogoutCmdWith(e, runLogout)
}

func newLogoutCmdWith(e *cmdEnv, runF func(context.Context, *cmdEnv, *logoutOptions) error) *cobra.Command {
	o := &logoutOptions{}
	c := &cobra.Command{
		Use:   "logout",
		Short: "Revoke the tokens and delete the stored login",
		Long: `Revoke the Vault token (Vault then revokes the Nomad and Consul tokens
minted with it), revoke the refresh token at the SSO when it has a revocation
endpoint, and delete the stored login. The Vault token is revoked at the
Vault that issued it, whatever Vault is configured now.

It first takes the profile's lock, waiting up to 5 minutes for a renewal in
flight; when the wait times out or is interrupted, nothing is revoked or
deleted (exit code 1).

When a server cannot be reached, or the configuration is invalid, the login is
still deleted locally; alilogin warns about what it could not revoke and exits
with code 3.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.options(o.All).Check(); err != nil {
				return err
			}
			return runF(c.Context(), e, o)
		},
	}
	addSessionFlags(c, &o.sessionOptions)
	c.Flags().BoolVar(&o.All, "all", false, "log out of every stored profile")
	return c
}

func runLogout(ctx context.Context, e *cmdEnv, o *logoutOptions) error {
	res, err := session.Logout(ctx, e.session(), o.options(o.All))
	if res.ClearedCurrent != "" {
		fmt.Fprintf(e.Stderr, "alilogin: %s was the current profile; there is none now (set one with: alilogin use PROFILE)\n", res.ClearedCurrent)
	}
	// The agent drops what is no longer logged in, and its gates die.
	if aerr := agent.Sync(ctx, e.getenv); aerr != nil {
		fmt.Fprintf(e.Stderr, "alilogin: warning: could not tell the agent about the logout: %s\n", termtext.Clean(aerr.Error()))
	}
	if err != nil {
		return err
	}
	if res.Partial {
		return cmdroot.Silent(exitPartial)
	}
	return nil
}
