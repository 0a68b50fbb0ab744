package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/shellenv"
)

// envOptions are the flags of `alilogin env`.
type envOptions struct {
	sessionOptions
	Shell   string
	For     []string
	MinTTL  time.Duration
	Verbose bool
	agentFlag
}

func newEnvCmd(e *cmdEnv) *cobra.Command {
	return newEnvCmdWith(e, runEnv)
}

func newEnvCmdWith(e *cmdEnv, runF func(context.Context, *cmdEnv, *envOptions) error) *cobra.Command {
	o := &envOptions{}
	c := &cobra.Command{
		Use:   "env",
		Short: "Print export lines for VAULT_TOKEN, NOMAD_TOKEN, CONSUL_HTTP_TOKEN and the addresses",
		Long: `Print the environment for the vault, nomad and consul CLIs: the tokens
(renewed as needed, like 'alilogin token'), the addresses and the TLS settings
in force, plus ALILOGIN_PROFILE and ALILOGIN_TOKEN_EXPIRY (RFC 3339, the
earliest expiry of the tokens printed). Values are quoted for the shell.

It also unsets what would send those tokens elsewhere, or check their servers
more weakly: VAULT_AGENT_ADDR, VAULT_PROXY_ADDR, VAULT_HTTP_PROXY,
VAULT_SRV_LOOKUP, VAULT_SKIP_VERIFY, VAULT_CACERT_BYTES, every BAO_* (the bao
CLI reads them before VAULT_*), NOMAD_SKIP_VERIFY, CONSUL_HTTP_TOKEN_FILE,
CONSUL_HTTP_SSL_VERIFY, CONSUL_GRPC_ADDR, CONSUL_GRPC_CACERT,
CONSUL_GRPC_CAPATH, and, for a server without a CA file, *_CAPATH,
SSL_CERT_FILE and SSL_CERT_DIR. HTTP_PROXY and the other proxy variables are
kept. http2debug is taken out of GODEBUG.`,
		Example: `  eval "$(alilogin env)"                       # bash, zsh
  alilogin env --shell fish | source           # fish
  alilogin env --shell powershell | Invoke-Expression
  alilogin env --shell json --for nomad`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if refuse, _ := c.Flags().GetBool("elevated"); refuse {
				return elevatedStaysInAgent("env")
			}
			if o.Shell == "" {
				o.Shell = shellenv.Detect(e.getenv)
			}
			sh, err := shellenv.Parse(o.Shell)
			if err != nil {
				return cmdroot.With(exitUsage, err)
			}
			o.Shell = sh
			if _, err := session.ParseKinds(o.For); err != nil {
				return err
			}
			o.agentFlag.parse(c)
			return runF(c.Context(), e, o)
		},
	}
	addSessionFlags(c, &o.sessionOptions)
	addKindFlags(c, &o.For, &o.MinTTL, &o.Verbose)
	addAgentFlag(c, &o.agentFlag)
	addElevatedRefusal(c)
	c.Flags().StringVar(&o.Shell, "shell", "", "sh (also bash, zsh), fish, powershell or json (default: from $SHELL)")
	_ = c.RegisterFlagCompletionFunc("shell", cobra.FixedCompletions([]string{"sh", "bash", "zsh", "fish", "powershell", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// addKindFlags adds --for, --min-ttl and --verbose (env and exec).
func addKindFlags(c *cobra.Command, kinds *[]string, minTTL *time.Duration, verbose *bool) {
	c.Flags().StringSliceVar(kinds, "for", nil, "tokens to include: vault, nomad, consul (default: all the profile has)")
	c.Flags().DurationVar(minTTL, "min-ttl", session.DefaultMinTTL, "renew a token valid for less than this")
	c.Flags().BoolVarP(verbose, "verbose", "v", false, "say on stderr what was renewed")
	_ = c.RegisterFlagCompletionFunc("for", cobra.FixedCompletions([]string{"vault", "nomad", "consul"}, cobra.ShellCompDirectiveNoFileComp))
}

func runEnv(ctx context.Context, e *cmdEnv, o *envOptions) error {
	eo, err := ensureOptions(o.For, o.MinTTL, o.Verbose)
	if err != nil {
		return err
	}
	s, err := openSession(e, o.sessionOptions)
	if err != nil {
		return err
	}
	if o.agentFlag.on(s) {
		a, err := openAgent(ctx, e, s.Profile, eo.Kinds)
		if err != nil {
			return err
		}
		return shellenv.Write(e.Stdout, o.Shell, a.Vars(s.Profile, e.environ()))
	}
	h, _, err := s.Handout(ctx, eo, false)
	if err != nil {
		return loginError(s.Profile, err)
	}
	return shellenv.Write(e.Stdout, o.Shell, h.Vars(e.environ()))
}
