package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/apply"
	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/leader"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/reaper"
	"github.com/alisw/alilogin/internal/serve"
)

func runServe(ctx context.Context, o ServeOptions, e *cmdEnv) error {
	log, err := newLogger(e.Stderr, o.LogFormat, o.LogLevel)
	if err != nil {
		return cmdroot.With(exitUsage, err)
	}
	if o.Interval <= 0 || o.WatchInterval <= 0 {
		return cmdroot.With(exitUsage, errors.New("--interval and --watch-interval must be positive"))
	}
	// The first load only finds the server addresses; an invalid folder
	// at start is reported by the server like any other (not ready).
	first, ferr := policy.Load(o.Dir)
	if ferr != nil {
		log.Error("invalid policies folder at start", "dir", o.Dir, "err", ferr)
		first = nil
	}
	var leasedVars []string
	if o.NomadTokenPath != "" {
		leasedVars = append(leasedVars, "NOMAD_TOKEN")
	}
	if o.ConsulTokenPath != "" {
		leasedVars = append(leasedVars, "CONSUL_HTTP_TOKEN")
	}
	clients, err := apply.ClientsFromEnv(e.Getenv, first, leasedVars...)
	if err != nil {
		if first == nil {
			return fmt.Errorf("could not start: %w (and the policies folder is invalid)", err)
		}
		return err
	}
	defer clients.CloseIdleConnections()
	// Consul and Nomad are left out when the policies do not use them
	// (apply.ClientsFromEnv), but the leader lock lives in Consul.
	if !o.NoLock && clients.Consul == nil {
		return errors.New("the leader lock needs Consul, which the policies do not use: set CONSUL_HTTP_ADDR and CONSUL_HTTP_TOKEN (or --consul-token-from-vault), or run a single instance with --no-lock")
	}
	var leased []*serve.LeasedToken
	for _, l := range []struct {
		path, header string
		c            **apiclient.Client
	}{{o.NomadTokenPath, "X-Nomad-Token", &clients.Nomad}, {o.ConsulTokenPath, "X-Consul-Token", &clients.Consul}} {
		if l.path == "" {
			continue
		}
		if *l.c == nil {
			return fmt.Errorf("a token read from %s has no server to go to: set the address of its server (NOMAD_ADDR or CONSUL_HTTP_ADDR, or broker.hcl)", l.path)
		}
		lt := &serve.LeasedToken{Vault: clients.Vault, Path: strings.TrimPrefix(l.path, "/"), Header: l.header, Log: log}
		if err := lt.Fetch(ctx); err != nil {
			return err
		}
		c := *(*l.c)
		hc := *c.HTTP
		hc.Transport = lt.Transport(c.HTTP.Transport)
		c.HTTP = &hc
		*l.c = &c
		leased = append(leased, lt)
	}

	identity := serve.Identity(o.Identity, e.Getenv("NOMAD_ALLOC_ID"), os.Hostname, o.Listen)
	pub := serve.Public{VaultAddr: o.PublicVaultAddr, NomadAddr: o.PublicNomadAddr, ConsulAddr: o.PublicConsulAddr}.WithEnvVault(first, e.Getenv("VAULT_ADDR"))
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
