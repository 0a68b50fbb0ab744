package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
)

// tokenOptions are the flags of `alilogin token`.
type tokenOptions struct {
	sessionOptions
	For     string
	MinTTL  time.Duration
	Login   bool
	Verbose bool
}

func newTokenCmd(e *cmdEnv) *cobra.Command {
	return newTokenCmdWith(e, runToken)
}

func newTokenCmdWith(e *cmdEnv, runF func(context.Context, *cmdEnv, *tokenOptions) error) *cobra.Command {
	o := &tokenOptions{}
	c := &cobra.Command{
		Use:   "token --for vault|nomad|consul",
		Short: "Print one token on stdout, renewed as needed",
		Long: `Print one secret and a newline on stdout, nothing else.

A cached token valid for longer than --min-ttl is printed without any network
call. Otherwise alilogin renews its lease, or mints a new one with the Vault
token, or refreshes the SSO session with the stored refresh token and logs in
to Vault again; it never opens a browser unless --login is given and stdin and
stderr are a terminal. When a new login is needed it exits with code 4 and
prints the command to run on stderr.`,
		Example: `  NOMAD_TOKEN=$(alilogin token --for nomad) nomad job status
  curl -H "X-Vault-Token: $(alilogin token --for vault)" "$VAULT_ADDR/v1/auth/token/lookup-self"`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if refuse, _ := c.Flags().GetBool("elevated"); refuse {
				return elevatedStaysInAgent("token")
			}
			if o.For == "" {
				return cmdroot.With(exitUsage, errors.New("--for is required: vault, nomad or consul"))
			}
			if _, err := store.ParseKind(o.For); err != nil {
				return cmdroot.With(exitUsage, err)
			}
			return runF(c.Context(), e, o)
		},
	}
	addSessionFlags(c, &o.sessionOptions)
	c.Flags().StringVar(&o.For, "for", "", "which token: vault, nomad or consul")
	c.Flags().DurationVar(&o.MinTTL, "min-ttl", session.DefaultMinTTL, "renew a token valid for less than this")
	c.Flags().BoolVar(&o.Login, "login", false, "when a new login is needed and this is a terminal, run it")
	c.Flags().BoolVarP(&o.Verbose, "verbose", "v", false, "say on stderr what was renewed")
	addElevatedRefusal(c)
	_ = c.RegisterFlagCompletionFunc("for", cobra.FixedCompletions([]string{"vault", "nomad", "consul"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func runToken(ctx context.Context, e *cmdEnv, o *tokenOptions) error {
	kind, err := store.ParseKind(o.For)
	if err != nil {
		return cmdroot.With(exitUsage, err)
	}
	s, err := openSession(e, o.sessionOptions)
	if err != nil {
		return err
	}
	eo := session.EnsureOptions{Kinds: []store.Kind{kind}, MinTTL: o.MinTTL, Verbose: o.Verbose}
	rec, _, err := ensure(ctx, s, eo)
	if err != nil && o.Login && isLoginNeeded(err) && isTerminal(e.Stdin) && isTerminal(e.Stderr) {
		if err = interactiveLogin(ctx, e, s.Profile); err == nil {
			rec, _, err = ensure(ctx, s, eo)
		}
	}
	if err != nil {
		return err
	}
	t := rec.Token(kind)
	if t == nil || t.Secret.Empty() {
		return fmt.Errorf("profile %s has no %s token (the profile may not grant one)", s.Profile, kind)
	}
	_, err = fmt.Fprintln(e.Stdout, t.Secret.Reveal())
	return err
}

func isLoginNeeded(err error) bool {
	return err != nil && cmdroot.Code(err, exitError) == exitLoginNeeded
}

// isTerminal reports whether f is a terminal.
func isTerminal(f any) bool {
	fd, ok := f.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(fd.Fd()))
}

// interactiveLogin runs `alilogin login --profile P` with its output on
// stderr, so that stdout stays data only.
func interactiveLogin(ctx context.Context, e *cmdEnv, profile string) error {
	le := *e
	le.Stdout = e.Stderr
	c := newLoginCmd(&le)
	c.SetArgs([]string{"--profile", profile})
	c.SetOut(e.Stderr)
	c.SetErr(e.Stderr)
	c.SilenceErrors, c.SilenceUsage = true, true
	return c.ExecuteContext(ctx)
}
