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

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/shellenv"
	"github.com/alisw/alilogin/internal/termtext"
)

// hookOptions are the flags and argument of `alilogin hook`.
type hookOptions struct {
	sessionOptions
	Shell  string
	Env    bool
	MinTTL time.Duration
	agentFlag
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
		ValidArgs: shellenv.HookShells,
		RunE: func(c *cobra.Command, args []string) error {
			if !slices.Contains(shellenv.HookShells, args[0]) {
				return cmdroot.With(exitUsage, fmt.Errorf("unknown shell %q: want bash, zsh or fish", args[0]))
			}
			if o.MinTTL <= 0 {
				return cmdroot.With(exitUsage, errors.New("--min-ttl must be positive"))
			}
			o.Shell = args[0]
			o.agentFlag.parse(c)
			return runF(c.Context(), e, o)
		},
	}
	addSessionFlags(c, &o.sessionOptions)
	c.Flags().BoolVar(&o.Env, "env", false, "print the environment and the hook's state (what the snippet runs)")
	c.Flags().DurationVar(&o.MinTTL, "min-ttl", session.DefaultMinTTL, "renew when the tokens are valid for less than this")
	addAgentFlag(c, &o.agentFlag)
	return c
}

func runHook(ctx context.Context, e *cmdEnv, o *hookOptions) error {
	if !o.Env {
		// The snippet follows `alilogin use` (the current-profile file);
		// without a state directory it cannot, and still works.
		cur, _ := session.CurrentPath(e.getenv)
		s, err := shellenv.HookSnippetWith(o.Shell, o.MinTTL, cur, o.agentFlag.words())
		if err != nil {
			return cmdroot.With(exitUsage, err)
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
	st := shellenv.HookState{Next: now.Add(shellenv.HookRetryAfter), Profile: e.getenv("ALILOGIN_PROFILE")}
	dialect := shellenv.Sh
	if o.Shell == "fish" {
		dialect = shellenv.Fish
	}
	vars, next, err := hookVars(ctx, e, o, &st, now)
	if err == nil {
		var env strings.Builder
		if err = shellenv.Write(&env, dialect, vars); err == nil {
			b.WriteString(env.String())
			st.Exported = shellenv.HookExported(vars)
			st.Next = next
		}
	}
	if err != nil {
		// Nothing exported (st.Exported empty): the tokens an earlier
		// refresh exported are unset, for a profile not logged in or a
		// login of another Vault than VAULT_ADDR names now.
		vars = nil
		st.Msg = "alilogin: " + termtext.Clean(strings.ReplaceAll(withHint(err).Error(), "\n", "; "))
	}
	st.Addrs = shellenv.HookAddrs(e.getenv, vars)
	if up, ok := shellenv.Uptime(); ok {
		st.NextUptime = up + st.Next.Sub(now)
	}
	st.Write(b, o.Shell)
}

// hookVars renews the profile's tokens and returns the variables the
// refresh applies and when the next refresh is due; it sets st's
// generation file, read before the refresh (a login, renewal or logout
// elsewhere from now on makes the next prompt refresh; one made by this
// refresh too: then once more, for nothing).
func hookVars(ctx context.Context, e *cmdEnv, o *hookOptions, st *shellenv.HookState, now time.Time) ([]shellenv.Var, time.Time, error) {
	s, err := openSession(e, o.sessionOptions)
	if err == nil && o.agentFlag.on(s) {
		return hookAgentVars(ctx, e, s, st, now) // hookagent.go
	}
	if err == nil {
		st.GenFile, st.Gen = s.Watch()
		h, _, herr := s.Handout(ctx, session.EnsureOptions{MinTTL: o.MinTTL}, false)
		if herr == nil {
			next := now.Add(shellenv.HookMinWait)
			if !h.Expiry.IsZero() {
				// To the second, as ALILOGIN_TOKEN_EXPIRY says it.
				next = later(h.Expiry.Truncate(time.Second).Add(-o.MinTTL), next)
			}
			// ALILOGIN_PROFILE stays the shell's own (no profile in
			// the handout): exported by the hook, it would pin the
			// shell to this profile and hide a later `alilogin use`
			// from it and from every command run there.
			h.Profile = ""
			return h.Vars(e.environ()), next, nil
		}
		err = loginError(s.Profile, herr)
	}
	if session.NotStored(err) {
		err = errors.New("not logged in; run: alilogin login")
		if p := cmp.Or(o.Profile, st.Profile); p != "" {
			err = loginNeeded(p)
		}
	}
	return nil, time.Time{}, err
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
