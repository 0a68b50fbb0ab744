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

	"github.com/alisw/alilogin/internal/exitcode"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// statusOptions are the flags of `alilogin status`.
type statusOptions struct {
	sessionOptions
	All        bool
	JSON       bool
	ShowTokens bool
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
			if o.All && o.Profile != "" {
				return exitcode.With(exitUsage, errors.New("--all and --profile cannot be used together"))
			}
			return runF(c.Context(), e, o)
		},
	}
	addSessionFlags(c, &o.sessionOptions)
	c.Flags().BoolVar(&o.All, "all", false, "every stored profile")
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	c.Flags().BoolVar(&o.ShowTokens, "show-tokens", false, "print the tokens themselves (careful: secrets on screen)")
	return c
}

// statusJSON is the --json form of one profile.
type statusJSON struct {
	Profile      string                     `json:"profile"`
	Usable       bool                       `json:"usable"`
	Error        string                     `json:"error,omitempty"`
	User         string                     `json:"user,omitempty"`
	Roles        []string                   `json:"roles,omitempty"`
	RefreshToken bool                       `json:"refresh_token"`
	Tokens       map[string]tokenStatusJSON `json:"tokens,omitempty"`
	UpdatedAt    *time.Time                 `json:"updated_at,omitempty"`
	ClientCert   *certStatus                `json:"client_certificate,omitempty"` // clientcert.go
}

type tokenStatusJSON struct {
	Token      string    `json:"token"` // masked unless --show-tokens
	Accessor   string    `json:"accessor,omitempty"`
	LeaseID    string    `json:"lease_id,omitempty"`
	Policies   []string  `json:"policies"`
	ExpiresAt  time.Time `json:"expires_at"`
	TTLSeconds int64     `json:"ttl_seconds"`
	Valid      bool      `json:"valid"`
	Renewable  bool      `json:"renewable"`
}

func runStatus(ctx context.Context, e *cmdEnv, o *statusOptions) error {
	cfg, st, err := loadLocal(e, o.sessionOptions)
	if err != nil {
		return err
	}
	profile := o.Profile
	if profile == "" && !o.All {
		profile = cfg.DefaultProfile
	}
	var profiles []string
	if profile != "" {
		profiles = []string{profile}
	} else {
		l, err := st.List()
		if err != nil {
			return fmt.Errorf("could not list stored logins: %w", err)
		}
		if len(l) == 0 {
			return exitcode.With(exitLoginNeeded, errors.New("not logged in; run: alilogin login"))
		}
		profiles = l
	}
	asList := o.All || len(profiles) > 1
	now := e.now()
	var out []statusJSON
	for _, p := range profiles {
		out = append(out, profileStatus(st, p, now, o.ShowTokens))
	}
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
					return exitcode.With(exitLoginNeeded, errors.New(s.Error))
				}
				return loginNeeded(s.Profile)
			}
			return exitcode.Silent(exitLoginNeeded)
		}
	}
	return nil
}

func profileStatus(st store.Store, profile string, now time.Time, show bool) statusJSON {
	s := statusJSON{Profile: profile}
	rec, err := st.Get(profile)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.Error = fmt.Sprintf("not logged in for profile %s; run: alilogin login --profile %s", profile, profile)
		} else {
			s.Error = sessionError(profile, err).Error()
		}
		return s
	}
	s.User, s.Roles, s.RefreshToken = rec.User, rec.Roles, !rec.RefreshToken.Empty()
	if !rec.UpdatedAt.IsZero() {
		u := rec.UpdatedAt
		s.UpdatedAt = &u
	}
	s.Tokens = map[string]tokenStatusJSON{}
	for _, k := range renew.Kinds {
		t := renew.TokenOf(rec, k)
		if t == nil {
			continue
		}
		tj := tokenStatusJSON{Token: maskToken(t.Secret.Reveal()), Accessor: t.Accessor, LeaseID: t.LeaseID, Policies: t.Policies,
			ExpiresAt: t.ExpiresAt, Valid: t.ValidFor(now, 0), Renewable: t.Renewable}
		if tj.Policies == nil {
			tj.Policies = []string{}
		}
		if show {
			tj.Token = t.Secret.Reveal()
		}
		if tj.Valid {
			tj.TTLSeconds = int64(t.ExpiresAt.Sub(now) / time.Second)
		}
		s.Tokens[string(k)] = tj
	}
	s.Usable = rec.Vault.ValidFor(now, 0) || s.RefreshToken
	s.ClientCert = statusCert(rec, now) // clientcert.go
	return s
}

// maskToken keeps a token's type prefix (hvs., s.) and hides the rest.
func maskToken(s string) string {
	if s == "" {
		return ""
	}
	if i := strings.IndexByte(s, '.'); i > 0 && i <= 4 {
		return s[:i+1] + "****"
	}
	return "****"
}

func printStatus(w io.Writer, s statusJSON, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintf(tw, "profile:\t%s\n", s.Profile)
	if s.Error != "" {
		fmt.Fprintf(tw, "status:\t%s\n", s.Error)
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
	for _, k := range renew.Kinds {
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
		fmt.Fprintf(tw, "%s:\t%s\t%s\tpolicies: %s\n", k, termtext.Clean(t.Token), ttl, pol)
	}
	if s.ClientCert != nil {
		fmt.Fprintf(tw, "client certificate:\t%s\n", s.ClientCert.text(now)) // clientcert.go
	}
	rt := "none (a browser login is needed when the Vault token expires)"
	if s.RefreshToken {
		rt = "stored (tokens are renewed without a browser)"
	}
	fmt.Fprintf(tw, "refresh token:\t%s\n", rt)
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
