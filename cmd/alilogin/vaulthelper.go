package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/cmdroot"
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
       nothing (exit 0) when not logged in, as the protocol expects. It
       decides from the program that runs it (on Linux: the first process
       above it that is not a shell). That program must be the vault or
       the bao CLI (a Go program built from their main package, whatever
       its file is called), or one that token_helper_clients in alilogin's
       config file names (patterns of file names, absolute paths or Go
       main packages, e.g. ["terraform-provider-vault*"]). The token goes out
       only when its VAULT_ADDR is the Vault the login was made with, none
       of the variables that would send the token elsewhere or check the
       Vault more weakly is set (VAULT_AGENT_ADDR, VAULT_PROXY_ADDR,
       VAULT_HTTP_PROXY, VAULT_SRV_LOOKUP, VAULT_SKIP_VERIFY,
       VAULT_CACERT_BYTES, for the bao CLI any BAO_*, without VAULT_CACERT
       VAULT_CAPATH, SSL_CERT_FILE, SSL_CERT_DIR), GODEBUG does not ask for
       http2debug, no HTTP proxy variable applies to its Vault address
       (lower-case localhost and loopback IPs exempt), and no -address or
       -agent-address anywhere on its command line names another Vault.
       Otherwise, or when that program cannot be read, it prints nothing
       (exit 0, one line on stderr), so the vault CLI works for another
       Vault without the token. Off Linux it checks its own environment.
store  refuses (exit 1): 'vault login' wants to keep a token alilogin did
       not make. Log in with 'alilogin login'; 'vault login -no-store' still
       works, with VAULT_TOKEN.
erase  logs the profile out ('alilogin logout'): the vault CLI forgets its
       token, and alilogin would otherwise make a new one at the next get.`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: tokenhelper.Verbs,
		RunE: func(c *cobra.Command, args []string) error {
			if !slices.Contains(tokenhelper.Verbs, args[0]) {
				return cmdroot.With(exitUsage, fmt.Errorf("unknown verb %q: want get, store or erase", args[0]))
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
// token followed by a newline. It decides from the process that runs
// it (the client: the first ancestor that is not a shell, see
// tokenhelper.FindClient), not from its own environment, which a shell
// startup file may have changed: when the client would send the token
// anywhere but the profile's Vault (tokenhelper.Refusal), or cannot be
// found or read on Linux, it prints nothing and exits 0 (no token, as
// the protocol allows), with one line on stderr: the CLI then works for
// that other Vault with its own token, and never gets this one. Off
// Linux it reads its own environment and no command line (a documented
// limit).
func vaultHelperGet(ctx context.Context, e *cmdEnv, o *vaultHelperOptions) error {
	// The vault CLI (1.13) discards the stderr of a helper that exits
	// 0: the reason is also kept for `alilogin status`.
	stateDir, _ := session.StateDir(e.getenv)
	profile := o.Profile
	notHere := func(why string) error {
		fmt.Fprintf(e.Stderr, "alilogin: no token from the token helper: %s\n", why)
		if stateDir != "" {
			if err := tokenhelper.RecordRefusal(stateDir, tokenhelper.RefusalRecord{At: e.now().UTC(), Profile: profile, Reason: why}); err != nil {
				fmt.Fprintf(e.Stderr, "alilogin: %v\n", err)
			}
		}
		return nil
	}
	c, why := tokenhelper.FindCaller(e.VaultClient, e.getenv, e.environ())
	if why != "" {
		return notHere(why)
	}
	// What needs no login record first: no renewal for a refusal.
	if why := tokenhelper.EnvRefusal(c.CLI, c.Env); why != "" {
		return notHere(why)
	}
	rec, err := vaultHelperRecord(ctx, e, o, &profile)
	if err != nil {
		if session.OtherServers(err) {
			// VAULT_ADDR names another Vault than the login's (or
			// the SSO issuer differs).
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
	if why := tokenhelper.Refusal(c.CLI, c.Env, c.Args, rec.VaultAddr); why != "" {
		return notHere(fmt.Sprintf("%s (profile %s)", why, rec.Profile))
	}
	if why := tokenhelper.TrustRefusal(c.CLI, c.Env, rec.VaultTrust); why != "" {
		return notHere(fmt.Sprintf("%s (profile %s)", why, rec.Profile))
	}
	if stateDir != "" {
		tokenhelper.ClearRefusal(stateDir)
	}
	_, err = io.WriteString(e.Stdout, rec.Vault.Secret.Reveal())
	return err
}

// vaultHelperRecord is the profile's record with its Vault token renewed
// as needed; it sets profile once the session names it.
func vaultHelperRecord(ctx context.Context, e *cmdEnv, o *vaultHelperOptions, profile *string) (*store.Record, error) {
	s, err := openSession(e, o.sessionOptions)
	if err != nil {
		return nil, err
	}
	*profile = s.Profile
	eo := session.EnsureOptions{MinTTL: session.DefaultMinTTL}
	eo.Kinds = append(eo.Kinds, store.Vault)
	rec, _, err := s.Ensure(ctx, eo)
	return rec, loginError(s.Profile, err)
}
