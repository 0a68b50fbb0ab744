package main

import (
	"context"
	"runtime"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/envcontract"
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
	return shellenv.Write(e.Stdout, o.Shell, envVars(s.Config, rec, kinds, e.environ()))
}

// sessionFor opens the session and renews the tokens of kinds (all the
// record has when empty).
func sessionFor(ctx context.Context, e *cmdEnv, so sessionOptions, forFlag []string, minTTL time.Duration, verbose bool) (*session.Session, *store.Record, []store.Kind, error) {
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

// envVars is the environment for kinds (the environment contract,
// internal/envcontract): tokens, addresses and TLS settings in force; the
// inherited variables of environ that would send a token elsewhere or
// check its server more weakly unset; http2debug taken out of GODEBUG
// (a Go CLI would print its token headers); the profile and the earliest
// expiry. A token whose server has no configured address is left out
// (Bound refuses it before).
func envVars(cfg *config.Config, rec *store.Record, kinds []store.Kind, environ []string) []shellenv.Var {
	return envVarsOn(cfg, rec, kinds, environ, runtime.GOOS)
}

// envVarsOn is envVars on goos (on Windows names match in any case).
func envVarsOn(cfg *config.Config, rec *store.Record, kinds []store.Kind, environ []string, goos string) []shellenv.Var {
	var vars []shellenv.Var
	add := func(name, value string) {
		if value != "" {
			vars = append(vars, shellenv.Var{Name: name, Value: value})
		}
	}
	var servers []store.Kind
	for _, k := range kinds {
		t, s := rec.Token(k), serverOf(cfg, k)
		// A token goes out only with the address it is for: without
		// one, the CLIs send it to their default local address.
		if t == nil || s.Addr == "" {
			continue
		}
		x := envcontract.For(k)
		add(x.Token, t.Secret.Reveal())
		add(x.Addr, s.Addr)
		add(x.CACert, s.TLS.CACert)
		add(x.ClientCert, s.TLS.ClientCert)
		add(x.ClientKey, s.TLS.ClientKey)
		add(x.TLSServerName, s.TLS.ServerName)
		servers = append(servers, k)
	}
	set := func(n string) bool {
		return slices.ContainsFunc(vars, func(v shellenv.Var) bool { return v.Name == n })
	}
	for _, n := range envcontract.Clear(servers, set, environ, goos) {
		vars = append(vars, shellenv.Var{Name: n, Unset: true})
	}
	if v, ok := envcontract.LookupOn(environ, envcontract.DebugVar, goos); ok && len(servers) > 0 {
		if d, changed := envcontract.StripDebug(v); changed {
			vars = append(vars, shellenv.Var{Name: envcontract.DebugVar, Value: d, Unset: d == ""})
		}
	}
	add(envcontract.ProfileVar, rec.Profile)
	if expiry := rec.EarliestExpiry(servers...); !expiry.IsZero() {
		add(envcontract.ExpiryVar, expiry.UTC().Format(time.RFC3339))
	}
	return vars
}

// serverOf is the configuration of kind's server.
func serverOf(cfg *config.Config, k store.Kind) config.Server {
	switch k {
	case store.Vault:
		return cfg.Vault
	case store.Nomad:
		return cfg.Nomad
	case store.Consul:
		return cfg.Consul
	}
	return config.Server{}
}
