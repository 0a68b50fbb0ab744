package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/exitcode"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
	"github.com/alisw/alilogin/internal/tokenhelper"
)

// vaultHelperOptions are the flags and verb of `alilogin vault-token-helper`.
type vaultHelperOptions struct {
	sessionOptions
	Verb string
}

func newVaultHelperCmd(e *cmdEnv) *cobra.Command {
	return newVaultHelperCmdWith(e, runVaultHelper)
}

func newVaultHelperCmdWith(e *cmdEnv, runF func(context.Context, *cmdEnv, *vaultHelperOptions) error) *cobra.Command {
	o := &vaultHelperOptions{}
	c := &cobra.Command{
		Use:   "vault-token-helper get|store|erase",
		Short: "The vault CLI's token helper: the profile's Vault token for plain vault commands",
		Long: `The vault CLI runs its token helper (token_helper in ~/.vault, or the file
VAULT_CONFIG_PATH names) when it needs a token and VAULT_TOKEN is not set.
'alilogin setup --vault-token-helper' installs this command there.

get    prints the profile's Vault token, renewed as needed, with no newline;
       nothing (exit 0) when not logged in, as the protocol expects. It gives
       the token only when VAULT_ADDR is set to the Vault the login was made
       with, VAULT_AGENT_ADDR is not set and (on Linux, where it can read the
       vault command line) no -address flag names another Vault and no
       -agent-address is given: otherwise it prints nothing (exit 0, one line
       on stderr), so the vault CLI works for another Vault without the token.
store  refuses (exit 1): 'vault login' wants to keep a token alilogin did
       not make. Log in with 'alilogin login'; 'vault login -no-store' still
       works, with VAULT_TOKEN.
erase  logs the profile out ('alilogin logout'): the vault CLI forgets its
       token, and alilogin would otherwise make a new one at the next get.`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: tokenhelper.Verbs,
		RunE: func(c *cobra.Command, args []string) error {
			if !slices.Contains(tokenhelper.Verbs, args[0]) {
				return exitcode.With(exitUsage, fmt.Errorf("unknown verb %q: want get, store or erase", args[0]))
			}
			o.Verb = args[0]
			return runF(c.Context(), e, o)
		},
	}
	addSessionFlags(c, &o.sessionOptions)
	return c
}

func runVaultHelper(ctx context.Context, e *cmdEnv, o *vaultHelperOptions) error {
	switch o.Verb {
	case "store":
		// The token arrives on stdin: read it to the end so that the
		// vault CLI's write does not fail, and keep nothing of it.
		if e.Stdin != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(e.Stdin, 1<<20))
		}
		return errors.New("alilogin manages the vault CLI's token (token_helper in its config file) and does not keep a token from 'vault login': log in with 'alilogin login', or use 'vault login -no-store' and VAULT_TOKEN")
	case "erase":
		s, err := openSession(e, o.sessionOptions)
		if isLoginNeeded(err) {
			return nil // nothing to forget
		}
		if err != nil {
			return err
		}
		le := *e
		le.Stdout = e.Stderr
		c := newLogoutCmd(&le)
		args := []string{"--profile", s.Profile}
		if o.Store != "" {
			args = append(args, "--store", o.Store)
		}
		c.SetArgs(args)
		c.SetOut(e.Stderr)
		c.SetErr(e.Stderr)
		c.SilenceErrors, c.SilenceUsage = true, true
		return c.ExecuteContext(ctx)
	}
	return vaultHelperGet(ctx, e, o)
}

// vaultHelperGet prints the Vault token alone: the vault CLI refuses a
// token followed by a newline. When the vault CLI would send it anywhere
// but the profile's Vault it prints nothing and exits 0 (no token, as
// the protocol allows), with one line on stderr: the CLI then works for
// that other Vault with its own token, and never gets this one.
func vaultHelperGet(ctx context.Context, e *cmdEnv, o *vaultHelperOptions) error {
	notHere := func(why string) error {
		fmt.Fprintf(e.Stderr, "alilogin: no token from the token helper: %s\n", why)
		return nil
	}
	if e.getenv("VAULT_ADDR") == "" {
		return notHere("VAULT_ADDR is not set, so the vault CLI would send the token to its default address; set it (the hook and 'alilogin env' do)")
	}
	if e.getenv("VAULT_AGENT_ADDR") != "" {
		return notHere("VAULT_AGENT_ADDR is set, so the vault CLI would send the token there rather than to VAULT_ADDR")
	}
	callerArgs, haveCaller := tokenhelper.CallerArgs()
	flagAddr, flagAgent := tokenhelper.AddressFlags(callerArgs)
	if haveCaller && flagAgent != "" {
		return notHere("the vault command has -agent-address, so it would send the token there")
	}
	s, err := openSession(e, o.sessionOptions)
	var rec *store.Record
	if err == nil {
		rec, _, err = s.Ensure(ctx, session.EnsureOptions{Kinds: []renew.Kind{renew.Vault}, MinTTL: renew.DefaultMinTTL})
	}
	if err != nil {
		if errors.As(err, new(*renew.ServerBindingError)) {
			// VAULT_ADDR names another Vault than the login's.
			return notHere(termtext.Clean(err.Error()))
		}
		if isLoginNeeded(err) {
			// Logged out: no token, as the protocol expects; the hint
			// is for whoever reads stderr.
			fmt.Fprintf(e.Stderr, "alilogin: %s\n", err)
			return nil
		}
		return err
	}
	if rec.Vault == nil || rec.Vault.Secret.Empty() {
		return nil
	}
	if haveCaller && flagAddr != "" {
		if c, cerr := check.Canonical(flagAddr); cerr != nil || c != rec.VaultAddr {
			return notHere(fmt.Sprintf("the vault command's -address %s is not the Vault of profile %s (%s)", termtext.Clean(flagAddr), rec.Profile, rec.VaultAddr))
		}
	}
	_, err = io.WriteString(e.Stdout, rec.Vault.Secret.Reveal())
	return err
}
