package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/exitcode"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/shellenv"
	"github.com/alisw/alilogin/internal/store"
)

// envOptions are the flags of `alilogin env`.
type envOptions struct {
	sessionOptions
	Shell   string
	For     []string
	MinTTL  time.Duration
	Verbose bool
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
earliest expiry of the tokens printed). Values are quoted for the shell.`,
		Example: `  eval "$(alilogin env)"                       # bash, zsh
  alilogin env --shell fish | source           # fish
  alilogin env --shell powershell | Invoke-Expression
  alilogin env --shell json --for nomad`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.Shell == "" {
				o.Shell = shellenv.Detect(e.getenv)
			}
			sh, err := shellenv.Parse(o.Shell)
			if err != nil {
				return exitcode.With(exitUsage, err)
			}
			o.Shell = sh
			if _, err := session.ParseKinds(o.For); err != nil {
				return err
			}
			return runF(c.Context(), e, o)
		},
	}
	addSessionFlags(c, &o.sessionOptions)
	addKindFlags(c, &o.For, &o.MinTTL, &o.Verbose)
	c.Flags().StringVar(&o.Shell, "shell", "", "sh (also bash, zsh), fish, powershell or json (default: from $SHELL)")
	_ = c.RegisterFlagCompletionFunc("shell", cobra.FixedCompletions([]string{"sh", "bash", "zsh", "fish", "powershell", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// addKindFlags adds --for, --min-ttl and --verbose (env and exec).
func addKindFlags(c *cobra.Command, kinds *[]string, minTTL *time.Duration, verbose *bool) {
	c.Flags().StringSliceVar(kinds, "for", nil, "tokens to include: vault, nomad, consul (default: all the profile has)")
	c.Flags().DurationVar(minTTL, "min-ttl", renew.DefaultMinTTL, "renew a token valid for less than this")
	c.Flags().BoolVarP(verbose, "verbose", "v", false, "say on stderr what was renewed")
	_ = c.RegisterFlagCompletionFunc("for", cobra.FixedCompletions([]string{"vault", "nomad", "consul"}, cobra.ShellCompDirectiveNoFileComp))
}

func runEnv(ctx context.Context, e *cmdEnv, o *envOptions) error {
	s, rec, kinds, err := sessionFor(ctx, e, o.sessionOptions, o.For, o.MinTTL, o.Verbose)
	if err != nil {
		return err
	}
	return shellenv.Write(e.Stdout, o.Shell, envVars(s.Config, rec, kinds))
}

// sessionFor opens the session and renews the tokens of kinds (all the
// record has when empty).
func sessionFor(ctx context.Context, e *cmdEnv, so sessionOptions, forFlag []string, minTTL time.Duration, verbose bool) (*session.Session, *store.Record, []renew.Kind, error) {
	kinds, err := session.ParseKinds(forFlag)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := openSession(e, so)
	if err != nil {
		return nil, nil, nil, err
	}
	rec, kinds, err := s.Ensure(ctx, session.EnsureOptions{Kinds: kinds, MinTTL: minTTL, Verbose: verbose, CertFiles: true})
	if err != nil {
		return nil, nil, nil, err
	}
	return s, rec, kinds, nil
}

// vaultOverrides and consulOverrides are variables that would send the
// token elsewhere than the address exported with it, or send another
// token instead: env unsets them, exec removes them. The vault CLI (and
// the Go API client) talks to VAULT_AGENT_ADDR ahead of VAULT_ADDR; the
// consul CLI reads CONSUL_HTTP_TOKEN_FILE over CONSUL_HTTP_TOKEN.
var (
	vaultOverrides  = []string{"VAULT_AGENT_ADDR"}
	consulOverrides = []string{"CONSUL_HTTP_TOKEN_FILE"}
)

// envVars is the environment for kinds: tokens, addresses and TLS
// settings in force, the variables that would override them unset, the
// profile and the earliest expiry. A token whose server has no
// configured address is left out (Bound refuses it before).
func envVars(cfg *config.Config, rec *store.Record, kinds []renew.Kind) []shellenv.Var {
	var vars []shellenv.Var
	add := func(name, value string) {
		if value != "" {
			vars = append(vars, shellenv.Var{Name: name, Value: value})
		}
	}
	server := func(prefix, addrVar string, s config.Server) {
		add(addrVar, s.Addr)
		add(prefix+"_CACERT", s.TLS.CACert)
		add(prefix+"_CLIENT_CERT", s.TLS.ClientCert)
		add(prefix+"_CLIENT_KEY", s.TLS.ClientKey)
		add(prefix+"_TLS_SERVER_NAME", s.TLS.ServerName)
	}
	unset := func(names ...string) {
		for _, n := range names {
			vars = append(vars, shellenv.Var{Name: n, Unset: true})
		}
	}
	var expiry time.Time
	for _, k := range kinds {
		t := renew.TokenOf(rec, k)
		if t == nil {
			continue
		}
		// A token goes out only with the address it is for: without
		// one, the CLIs send it to their default local address.
		switch k {
		case renew.Vault:
			if cfg.Vault.Addr == "" {
				continue
			}
			add("VAULT_TOKEN", t.Secret.Reveal())
			server("VAULT", "VAULT_ADDR", cfg.Vault)
			unset(vaultOverrides...)
		case renew.Nomad:
			if cfg.Nomad.Addr == "" {
				continue
			}
			add("NOMAD_TOKEN", t.Secret.Reveal())
			server("NOMAD", "NOMAD_ADDR", cfg.Nomad)
		case renew.Consul:
			if cfg.Consul.Addr == "" {
				continue
			}
			add("CONSUL_HTTP_TOKEN", t.Secret.Reveal())
			server("CONSUL", "CONSUL_HTTP_ADDR", cfg.Consul)
			unset(consulOverrides...)
		}
		if expiry.IsZero() || t.ExpiresAt.Before(expiry) {
			expiry = t.ExpiresAt
		}
	}
	add("ALILOGIN_PROFILE", rec.Profile)
	if !expiry.IsZero() {
		add("ALILOGIN_TOKEN_EXPIRY", expiry.UTC().Format(time.RFC3339))
	}
	return vars
}
