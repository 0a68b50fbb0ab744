package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/leader"
	"github.com/alisw/alilogin/internal/reaper"
)

// ServeOptions are the inputs of `broker serve`.
type ServeOptions struct {
	Dir           string
	Listen        string
	Interval      time.Duration
	WatchInterval time.Duration
	Prune         bool

	NoReap     bool
	ReapDryRun bool
	ReapGrace  time.Duration

	NoLock   bool
	LockKey  string
	Identity string

	// Tokens from Vault instead of NOMAD_TOKEN / CONSUL_HTTP_TOKEN.
	NomadTokenPath  string
	ConsulTokenPath string

	PublicVaultAddr  string
	PublicNomadAddr  string
	PublicConsulAddr string

	LogFormat string
	LogLevel  string
}

func newServeCmd(e *cmdEnv) *cobra.Command {
	return newServeCmdWith(e, runServe)
}

// newServeCmdWith takes the run function, so that tests check the flags
// apart from the behaviour.
func newServeCmdWith(e *cmdEnv, runF func(context.Context, ServeOptions, *cmdEnv) error) *cobra.Command {
	var o ServeOptions
	c := &cobra.Command{
		Use:   "serve [DIR]",
		Short: "Keep Vault, Nomad and Consul matched to DIR; reap orphaned tokens; serve discovery and metrics",
		Long: `Run the broker as a service. Every --interval, and when the files of DIR
change or on SIGHUP, the leader plans and applies DIR as 'broker apply
--auto-approve' does (with --prune only if given), then deletes orphaned
Nomad and Consul tokens that Vault made for managed profiles and lost track
of: named exactly as Vault names them, with the profile's policies, older
than the profile's max TTL plus --reap-grace, with a name that fits no other
Vault role, and with no Vault lease issued when they were made under any
nomad (consul) engine; only for the configuration last applied in full
(see docs/deploy/operations.md).

An invalid DIR never replaces the configuration in force: the error shows in
the logs, in /metrics and on /readyz until the files are fixed. Nor does a
DIR whose plan, with --prune, is a mass delete (more than half of the
managed objects, or every one of a kind): serve never applies it, logs it,
counts it in alilogin_broker_mass_delete_refused_total, sets
alilogin_broker_mass_delete_held to 1 and keeps reconciling the
configuration in force before it. Run 'broker apply --prune
--allow-mass-delete' by hand if the deletes are meant.

Several instances may run: one leads (a lock in Consul's KV under a Consul
session), the others serve HTTP and take over when it stops (at once on a
clean stop, within about 4s when it dies: its session is bound to a 3s
liveness check).

Endpoints: /healthz, /readyz, /metrics, /v1/discovery.

Credentials: VAULT_ADDR and VAULT_TOKEN (or the token Nomad's vault block
gives), and either NOMAD_TOKEN and CONSUL_HTTP_TOKEN, or
--nomad-token-from-vault and --consul-token-from-vault to read short-lived
management tokens from Vault's secrets engines. See docs/deploy/operations.md.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Dir = dirArg(args)
			return runF(cmd.Context(), o, e)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:8080", "HTTP listen address")
	f.DurationVar(&o.Interval, "interval", 5*time.Minute, "reconcile interval")
	f.DurationVar(&o.WatchInterval, "watch-interval", 5*time.Second, "how often DIR is checked for changes")
	f.BoolVar(&o.Prune, "prune", false, "delete managed objects the files no longer declare (never a mass delete)")
	f.BoolVar(&o.NoReap, "no-reap", false, "do not delete orphaned tokens")
	f.BoolVar(&o.ReapDryRun, "reap-dry-run", false, "report orphaned tokens (logs, metrics) without deleting them")
	f.DurationVar(&o.ReapGrace, "reap-grace", reaper.DefaultGrace, "extra age beyond a profile's max TTL before a Vault-made token with no lease counts as orphaned")
	f.BoolVar(&o.NoLock, "no-lock", false, "do not take the leader lock in Consul (a single instance only)")
	f.StringVar(&o.LockKey, "lock-key", leader.DefaultKey, "Consul KV key of the leader lock")
	f.StringVar(&o.Identity, "identity", "", "this instance's name in the lock (default: $NOMAD_ALLOC_ID, else host name and listen address)")
	f.StringVar(&o.NomadTokenPath, "nomad-token-from-vault", "", "read the Nomad token from this Vault path (e.g. nomad/creds/broker) instead of NOMAD_TOKEN")
	f.StringVar(&o.ConsulTokenPath, "consul-token-from-vault", "", "read the Consul token from this Vault path (e.g. consul/creds/broker) instead of CONSUL_HTTP_TOKEN")
	f.StringVar(&o.PublicVaultAddr, "public-vault-addr", "", "Vault address published in /v1/discovery (default: the vault address of broker.hcl, else VAULT_ADDR)")
	f.StringVar(&o.PublicNomadAddr, "public-nomad-addr", "", "Nomad address published in /v1/discovery (default: broker.hcl's)")
	f.StringVar(&o.PublicConsulAddr, "public-consul-addr", "", "Consul address published in /v1/discovery (default: broker.hcl's)")
	f.StringVar(&o.LogFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	return c
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid --log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("invalid --log-format %q: want text or json", format)
}
