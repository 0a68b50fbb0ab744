package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/termtext"
)

// useOptions are the argument and flags of `alilogin use`.
type useOptions struct {
	Profile string
	Store   string
	Unset   bool
}

func newUseCmd(e *cmdEnv) *cobra.Command {
	return newUseCmdWith(e, runUse)
}

func newUseCmdWith(e *cmdEnv, runF func(context.Context, *cmdEnv, *useOptions) error) *cobra.Command {
	o := &useOptions{}
	c := &cobra.Command{
		Use:   "use [PROFILE]",
		Short: "Make a logged-in profile the current one, used without --profile",
		Long: `Make PROFILE the current profile: token, env, exec, status, logout, login and
the shell hook use it when given neither --profile nor ALILOGIN_PROFILE (which
win over it), ahead of default_profile in the config file. Like 'kubectl
config use-context' and 'gh auth switch', it refuses a profile that has no
stored login (exit code 4): log in to it first.

Without PROFILE it prints the current profile (exit code 1 when none is set);
--unset clears it. A login makes its profile current only when none is set,
and a logout of the current profile clears it.`,
		Example: `  alilogin use ci-admin
  alilogin use              # prints the current profile
  alilogin use --unset`,
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeProfiles(e, true),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Profile = args[0]
			}
			if o.Unset && o.Profile != "" {
				return cmdroot.With(exitUsage, errors.New("--unset takes no profile"))
			}
			return runF(c.Context(), e, o)
		},
	}
	c.Flags().BoolVar(&o.Unset, "unset", false, "clear the current profile")
	c.Flags().StringVar(&o.Store, "store", "", "where logins are kept: keyring or file (default: ALILOGIN_STORE, else automatic)")
	return c
}

func runUse(_ context.Context, e *cmdEnv, o *useOptions) error {
	se := e.session()
	switch {
	case o.Unset:
		if _, err := session.ClearCurrent(se, ""); err != nil {
			return err
		}
		fmt.Fprintln(e.Stderr, "alilogin: no current profile")
		return nil
	case o.Profile == "":
		p, err := session.Current(se)
		if err != nil {
			return err
		}
		if p == "" {
			return errors.New("no current profile; set one with: alilogin use PROFILE")
		}
		_, err = fmt.Fprintln(e.Stdout, p)
		return err
	}
	if !config.ValidProfileName(o.Profile) {
		return cmdroot.With(exitUsage, fmt.Errorf("invalid profile name %q", o.Profile))
	}
	_, st, err := session.Local(se, session.Options{Store: o.Store})
	if err != nil {
		return err
	}
	if _, err := st.Get(o.Profile); session.NotStored(err) {
		return cmdroot.With(exitLoginNeeded, fmt.Errorf("not logged in for profile %s; run: alilogin login --profile %s, then alilogin use %s", o.Profile, o.Profile, o.Profile))
	} else if err != nil {
		return loginError(o.Profile, err)
	}
	if err := session.SetCurrent(se, o.Profile); err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "alilogin: current profile: %s\n", o.Profile)
	if env := e.getenv("ALILOGIN_PROFILE"); env != "" && env != o.Profile {
		fmt.Fprintf(e.Stderr, "alilogin: note: ALILOGIN_PROFILE=%s is set here and wins over the current profile (unset ALILOGIN_PROFILE)\n", termtext.Clean(env))
	}
	return nil
}

// completeProfiles completes a profile name: the stored logins' and,
// unless storedOnly, the configured profiles (config file, the broker's
// cached discovery document). No network call.
func completeProfiles(e *cmdEnv, storedOnly bool) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if storedOnly && len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, p := range session.KnownProfileNames(e.session(), storedOnly) {
			if strings.HasPrefix(p, prefix) {
				out = append(out, p)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
