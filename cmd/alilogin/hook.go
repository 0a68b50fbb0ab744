package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/envcontract"
	"github.com/alisw/alilogin/internal/exitcode"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/shellenv"
	"github.com/alisw/alilogin/internal/shellhook"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// hookOptions are the flags and argument of `alilogin hook`.
type hookOptions struct {
	sessionOptions
	Shell  string
	Env    bool
	MinTTL time.Duration
}

func newHookCmd(e *cmdEnv) *cobra.Command {
	return newHookCmdWith(e, runHook)
}

func newHookCmdWith(e *cmdEnv, runF func(context.Context, *cmdEnv, *hookOptions) error) *cobra.Command {
	o := &hookOptions{}
	c := &cobra.Command{
		Use:   "hook bash|zsh|fish",
		Short: "Print a shell snippet that keeps the tokens fresh before each prompt",
		Long: `Print a snippet for the shell's rc file. Before each prompt it keeps VAULT_TOKEN,
NOMAD_TOKEN, CONSUL_HTTP_TOKEN and the addresses fresh in that shell: while the
tokens are valid for longer than --min-ttl it compares two numbers with shell
builtins and starts no process; when that time has come it runs
'alilogin hook SHELL --env' (the lines of 'alilogin env' and the next time to
look) and applies them; a changed ALILOGIN_PROFILE or server address, or a new
current profile ('alilogin use', read with the shell's read builtin), refreshes
at the next prompt, and so (on Linux) does a login, renewal or logout of the
profile in any terminal: the snippet reads the profile's generation file with
the shell's read builtin and compares it with the last one, and a refresh unsets the token variables it exported before and does
not set now (another profile's, or all of them when a login is needed). When a
new login is needed it says so in one line, once, and looks again a minute
later. The refresh is not traced by set -x or fish_trace.

--env prints what the snippet applies; it is for the snippet.`,
		Example: `  eval "$(alilogin hook bash)"        # in ~/.bashrc
  eval "$(alilogin hook zsh)"         # in ~/.zshrc
  alilogin hook fish | source         # in ~/.config/fish/config.fish`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: shellhook.Shells,
		RunE: func(c *cobra.Command, args []string) error {
			if !slices.Contains(shellhook.Shells, args[0]) {
				return exitcode.With(exitUsage, fmt.Errorf("unknown shell %q: want bash, zsh or fish", args[0]))
			}
			if o.MinTTL <= 0 {
				return exitcode.With(exitUsage, errors.New("--min-ttl must be positive"))
			}
			o.Shell = args[0]
			return runF(c.Context(), e, o)
		},
	}
	addSessionFlags(c, &o.sessionOptions)
	c.Flags().BoolVar(&o.Env, "env", false, "print the environment and the hook's state (what the snippet runs)")
	c.Flags().DurationVar(&o.MinTTL, "min-ttl", renew.DefaultMinTTL, "renew when the tokens are valid for less than this")
	return c
}

func runHook(ctx context.Context, e *cmdEnv, o *hookOptions) error {
	if !o.Env {
		// The snippet follows `alilogin use` (the current-profile file);
		// without a state directory it cannot, and still works.
		cur, _ := session.CurrentPath(e.getenv)
		s, err := shellhook.SnippetFollowing(o.Shell, o.MinTTL, cur)
		if err != nil {
			return exitcode.With(exitUsage, err)
		}
		_, err = io.WriteString(e.Stdout, s)
		return err
	}
	var b strings.Builder
	hookEnv(ctx, e, o, &b)
	_, err := io.WriteString(e.Stdout, b.String())
	return err
}

// hookEnv writes the environment and the hook's state; a failure is
// part of the state (said once by the snippet), never an exit code the
// snippet would have to read.
func hookEnv(ctx context.Context, e *cmdEnv, o *hookOptions, b *strings.Builder) {
	now := e.now()
	st := shellhook.State{Next: now.Add(shellhook.RetryAfter), Profile: e.getenv("ALILOGIN_PROFILE")}
	dialect := shellenv.Sh
	if o.Shell == "fish" {
		dialect = shellenv.Fish
	}
	var vars []shellenv.Var
	// The profile's generation before the refresh: a login, renewal or
	// logout elsewhere from now on makes the next prompt refresh (one
	// made by this refresh too: then once more, for nothing).
	var s *session.Session
	var rec *store.Record
	kinds, err := session.ParseKinds(nil)
	if err == nil {
		s, err = openSession(e, o.sessionOptions)
	}
	if err == nil {
		if path, gen, ok := store.Watch(e.getenv, s.Profile); ok {
			st.GenFile, st.Gen = path, string(gen)
		}
		rec, kinds, err = ensure(ctx, s, session.EnsureOptions{Kinds: kinds, MinTTL: o.MinTTL, CertFiles: true})
	}
	if errors.Is(err, store.ErrNotFound) {
		err = errors.New("not logged in; run: alilogin login")
		if p := cmp.Or(o.Profile, st.Profile); p != "" {
			err = loginNeeded(p)
		}
	}
	if err == nil {
		// ALILOGIN_PROFILE stays the shell's own: exported by the hook,
		// it would pin the shell to this profile and hide a later
		// `alilogin use` from it and from every command run there.
		vars = slices.DeleteFunc(envVars(s.Config, rec, kinds, e.environ()), func(v shellenv.Var) bool { return v.Name == "ALILOGIN_PROFILE" })
		var env strings.Builder
		if err = shellenv.Write(&env, dialect, vars); err == nil {
			b.WriteString(env.String())
			for _, v := range vars {
				if !v.Unset && slices.Contains(envcontract.TokenVars(), v.Name) {
					st.Exported = append(st.Exported, v.Name)
				}
			}
			st.Next = now.Add(shellhook.MinWait)
			for _, v := range vars {
				if exp, perr := time.Parse(time.RFC3339, v.Value); v.Name == "ALILOGIN_TOKEN_EXPIRY" && perr == nil {
					st.Next = later(exp.Add(-o.MinTTL), now.Add(shellhook.MinWait))
				}
			}
		}
	}
	if err != nil {
		// Nothing exported (st.Exported empty): the tokens an earlier
		// refresh exported are unset, for a profile not logged in or a
		// login of another Vault than VAULT_ADDR names now.
		vars = nil
		st.Msg = "alilogin: " + termtext.Clean(strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	st.Addrs = hookAddrs(e, vars)
	if up, ok := shellhook.Uptime(); ok {
		st.NextUptime = up + st.Next.Sub(now)
	}
	st.Write(b, o.Shell)
}

// hookAddrs is VAULT_ADDR|NOMAD_ADDR|CONSUL_HTTP_ADDR as the shell
// has them once it applied vars: the snippet refreshes when one changes.
func hookAddrs(e *cmdEnv, vars []shellenv.Var) string {
	names := []string{"VAULT_ADDR", "NOMAD_ADDR", "CONSUL_HTTP_ADDR"}
	vals := make([]string, len(names))
	for i, n := range names {
		vals[i] = e.getenv(n)
		for _, v := range vars {
			if v.Name == n {
				vals[i] = v.Value
				if v.Unset {
					vals[i] = ""
				}
			}
		}
	}
	return strings.Join(vals, "|")
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
