package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/apply"
	"github.com/alisw/alilogin/internal/exitcode"
	"github.com/alisw/alilogin/internal/leader"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/reaper"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/serve"
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

func runServe(ctx context.Context, o ServeOptions, e *cmdEnv) error {
	log, err := newLogger(e.Stderr, o.LogFormat, o.LogLevel)
	if err != nil {
		return exitcode.With(exitUsage, err)
	}
	if o.Interval <= 0 || o.WatchInterval <= 0 {
		return exitcode.With(exitUsage, errors.New("--interval and --watch-interval must be positive"))
	}
	// The first load only finds the server addresses; an invalid folder
	// at start is reported by the server like any other (not ready).
	first, ferr := policy.Load(o.Dir)
	if ferr != nil {
		log.Error("invalid policies folder at start", "dir", o.Dir, "err", ferr)
		first = nil
	}
	getenv := e.Getenv
	var leased []*serve.LeasedToken
	if o.NomadTokenPath != "" || o.ConsulTokenPath != "" {
		getenv = func(k string) string {
			if (k == "NOMAD_TOKEN" && o.NomadTokenPath != "") || (k == "CONSUL_HTTP_TOKEN" && o.ConsulTokenPath != "") {
				return "from-vault" // replaced below by the leased token
			}
			return e.Getenv(k)
		}
	}
	clients, err := apply.ClientsFromEnv(getenv, first)
	if err != nil {
		if first == nil {
			return fmt.Errorf("could not start: %w (and the policies folder is invalid)", err)
		}
		return err
	}
	defer clients.CloseIdleConnections()
	for _, l := range []struct {
		path, header string
		c            **apiclient.Client
	}{{o.NomadTokenPath, "X-Nomad-Token", &clients.Nomad}, {o.ConsulTokenPath, "X-Consul-Token", &clients.Consul}} {
		if l.path == "" {
			continue
		}
		lt := &serve.LeasedToken{Vault: clients.Vault, Path: strings.TrimPrefix(l.path, "/"), Header: l.header, Log: log}
		if err := lt.Fetch(ctx); err != nil {
			return err
		}
		c := (*l.c).WithToken(secret.String{})
		hc := *c.HTTP
		hc.Transport = lt.Transport(c.HTTP.Transport)
		c.HTTP = &hc
		*l.c = c
		leased = append(leased, lt)
	}

	identity := o.Identity
	if identity == "" {
		identity = e.Getenv("NOMAD_ALLOC_ID")
	}
	if identity == "" {
		host, _ := os.Hostname()
		identity = host + "/" + o.Listen
	}
	pub := serve.Public{VaultAddr: o.PublicVaultAddr, NomadAddr: o.PublicNomadAddr, ConsulAddr: o.PublicConsulAddr}
	if pub.VaultAddr == "" && (first == nil || first.Vault.Addr == "") {
		pub.VaultAddr = e.Getenv("VAULT_ADDR")
	}
	opts := serve.Options{
		Dir:           o.Dir,
		Load:          policy.Load,
		Reconciler:    serve.ApplyReconciler{Clients: clients, Prune: o.Prune},
		Prober:        serve.HTTPProber{Vault: clients.Vault, Nomad: clients.Nomad, Consul: clients.Consul},
		Public:        pub,
		Interval:      o.Interval,
		WatchInterval: o.WatchInterval,
		Log:           log,
	}
	if !o.NoReap {
		opts.Reaper = &reaper.Reaper{Vault: clients.Vault, Nomad: clients.Nomad, Consul: clients.Consul, Grace: o.ReapGrace, DryRun: o.ReapDryRun, Log: log}
	}
	if !o.NoLock {
		opts.Elector = &leader.Elector{Consul: clients.Consul, Key: o.LockKey, Identity: identity, Log: log}
	}
	srv, err := serve.New(opts)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("could not listen on %s: %w", o.Listen, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("broker serving", "addr", ln.Addr().String(), "dir", o.Dir, "interval", o.Interval.String(),
		"prune", o.Prune, "reap", !o.NoReap, "reap_dry_run", o.ReapDryRun, "lock", !o.NoLock, "identity", identity)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	var wg sync.WaitGroup
	httpErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			httpErr <- err
			stop()
		}
	}()
	for _, lt := range leased {
		wg.Add(1)
		go func() { defer wg.Done(); lt.Keep(runCtx) }()
	}
	runDone := make(chan error, 1)
	go func() { runDone <- srv.Run(runCtx) }()
	go func() {
		for {
			select {
			case <-runCtx.Done():
				return
			case <-hup:
				srv.Reload()
			}
		}
	}()

	var runErr error
	select {
	case runErr = <-runDone:
	case <-runCtx.Done():
		log.Info("shutting down: finishing the current step, releasing the leader lock")
		runErr = <-runDone
	}
	stop()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	wg.Wait()
	select {
	case err := <-httpErr:
		return fmt.Errorf("could not serve HTTP: %w", err)
	default:
	}
	log.Info("stopped")
	return runErr
}
