package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/agent"
	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// statusOptions are the flags of `alilogin status`.
type statusOptions struct {
	sessionOptions
	All        bool
	JSON       bool
	ShowTokens bool
	Short      bool
}

func newStatusCmd(e *cmdEnv) *cobra.Command {
	return newStatusCmdWith(e, runStatus)
}

func newStatusCmdWith(e *cmdEnv, runF func(context.Context, *cmdEnv, *statusOptions) error) *cobra.Command {
	o := &statusOptions{}
	c := &cobra.Command{
		Use:   "status",
		Short: "Show who is logged in, to which profile, and each token's TTL and policies",
		Long: `Show the stored login: user, roles, profile, and each token's remaining TTL
and policies. Tokens are masked unless --show-tokens is given. status reads the
store only and makes no network call.

Exit code 0 when a usable session exists (a valid Vault token, or a refresh
token to get one without a browser), 4 otherwise; with --all, 0 when every
stored profile is usable.`,
		Example: `  alilogin status
  alilogin status --all --json | jq '.[] | {profile, usable}'
  alilogin status -p ci >/dev/null 2>&1 && echo logged in`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.options(o.All).Check(); err != nil {
				return err
			}
			return runF(c.Context(), e, o)
		},
	}
	addSessionFlags(c, &o.sessionOptions)
	c.Flags().BoolVar(&o.All, "all", false, "every stored profile")
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	c.Flags().BoolVar(&o.ShowTokens, "show-tokens", false, "print the tokens themselves (careful: secrets on screen)")
	addStatusShortFlag(c, &o.Short)
	return c
}

func runStatus(ctx context.Context, e *cmdEnv, o *statusOptions) error {
	if o.Short {
		return runStatusShort(e, o)
	}
	out, asList, err := session.Statuses(e.session(), o.options(o.All), o.ShowTokens)
	if err != nil {
		return notLoggedIn(err)
	}
	for i := range out {
		if s := &out[i]; s.Err != nil {
			s.Error = loginError(s.Profile, s.Err).Error()
		}
	}
	now := e.now()
	addWindows(ctx, e, out)
	if o.JSON {
		var v any = out[0]
		if asList {
			v = out
		}
		if err := writeJSON(e.Stdout, v); err != nil {
			return err
		}
	} else if !(len(out) == 1 && out[0].Error != "") { // else the error says it all
		for i, s := range out {
			if i > 0 {
				fmt.Fprintln(e.Stdout)
			}
			printStatus(e.Stdout, s, now)
		}
	}
	for _, s := range out {
		if !s.Usable {
			if len(out) == 1 {
				if s.Error != "" {
					return cmdroot.With(exitLoginNeeded, errors.New(s.Error))
				}
				return loginNeeded(s.Profile)
			}
			return cmdroot.Silent(exitLoginNeeded)
		}
	}
	return nil
}

func printStatus(w io.Writer, s session.Status, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	if s.Current {
		fmt.Fprintf(tw, "profile:\t%s (current)\n", s.Profile)
	} else {
		fmt.Fprintf(tw, "profile:\t%s\n", s.Profile)
	}
	if r := s.TokenHelperRefusal; r != nil {
		defer fmt.Fprintf(tw, "vault token helper:\tgave no token at %s: %s\n", r.At.Local().Format("2006-01-02 15:04:05 MST"), termtext.Clean(r.Reason))
	}
	if s.Error != "" {
		fmt.Fprintf(tw, "status:\t%s\n", termtext.Clean(s.Error))
		return
	}
	// The user, roles, policies and tokens come from the SSO and Vault:
	// cleaned for the terminal.
	roles := strings.Join(termtext.CleanAll(s.Roles), ", ")
	if roles == "" {
		roles = "(none)"
	}
	fmt.Fprintf(tw, "user:\t%s\n", termtext.Clean(s.User))
	fmt.Fprintf(tw, "roles:\t%s\n", roles)
	for _, k := range store.Kinds {
		t, ok := s.Tokens[string(k)]
		if !ok {
			continue
		}
		ttl := "expired"
		if t.Valid {
			ttl = "valid for " + (time.Duration(t.TTLSeconds) * time.Second).String() + ", until " + t.ExpiresAt.Local().Format("15:04:05 MST")
		}
		pol := strings.Join(termtext.CleanAll(t.Policies), ", ")
		if pol == "" {
			pol = "-"
		}
		fmt.Fprintf(tw, "%s:\t%s\t%s\tfrom %s\tpolicies: %s\n", k, termtext.Clean(t.Token), ttl, from(t.From), pol)
	}
	if s.ClientCert != nil {
		fmt.Fprintf(tw, "client certificate:\t%s\n", s.ClientCert.Text(now))
	}
	rt := "none (a browser login is needed when the Vault token expires)"
	if s.RefreshToken {
		rt = "stored (tokens are renewed without a browser)"
	}
	fmt.Fprintf(tw, "refresh token:\t%s\n", rt)
	if w := s.AttendedWindow; w != nil {
		fmt.Fprintf(tw, "attended window:\t%s\n", windowText(&agent.WindowStatus{Until: w.Until, Uses: w.Uses, Used: w.Used, Left: w.Left}, now))
	}
}

// from says where a token came from, for status's column.
func from(f string) string {
	if f == "direct" {
		return "direct login"
	}
	return "vault"
}

// writeJSON prints v as indented JSON. encoding/json escapes C0 controls
// in strings but leaves DEL, C1 controls and the characters that reorder
// or hide text as they are; writeJSON escapes those too (\uXXXX), so that
// the output is the same JSON and still safe on a terminal.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, termtext.EscapeJSON(b)+"\n")
	return err
}
