package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/exitcode"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/oidc"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// logoutOptions are the flags of `alilogin logout`.
type logoutOptions struct {
	sessionOptions
	All bool
}

func newLogoutCmd(e *cmdEnv) *cobra.Command {
	return newLogoutCmdWith(e, runLogout)
}

func newLogoutCmdWith(e *cmdEnv, runF func(context.Context, *cmdEnv, *logoutOptions) error) *cobra.Command {
	o := &logoutOptions{}
	c := &cobra.Command{
		Use:   "logout",
		Short: "Revoke the tokens and delete the stored login",
		Long: `Revoke the Vault token (Vault then revokes the Nomad and Consul tokens
minted with it), revoke the refresh token at the SSO when it has a revocation
endpoint, and delete the stored login. The Vault token is revoked at the
Vault that issued it, whatever Vault is configured now.

It first takes the profile's lock, waiting up to 5 minutes for a renewal in
flight; when the wait times out or is interrupted, nothing is revoked or
deleted (exit code 1).

When a server cannot be reached, or the configuration is invalid, the login is
still deleted locally; alilogin warns about what it could not revoke and exits
with code 3.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if o.All && o.Profile != "" {
				return exitcode.With(exitUsage, errors.New("--all and --profile cannot be used together"))
			}
			return runF(c.Context(), e, o)
		},
	}
	addSessionFlags(c, &o.sessionOptions)
	c.Flags().BoolVar(&o.All, "all", false, "log out of every stored profile")
	return c
}

func runLogout(ctx context.Context, e *cmdEnv, o *logoutOptions) error {
	cfg, st, cfgErr, err := loadForLogout(e, o.sessionOptions)
	if err != nil {
		return err
	}
	profiles, err := logoutProfiles(e, cfg, st, o)
	if err != nil || len(profiles) == 0 {
		return err
	}
	if cfgErr != nil {
		fmt.Fprintf(e.Stderr, "alilogin: warning: ignoring the configuration (%s); logging out with only what the stored login records of where its tokens belong\n", termtext.Clean(cfgErr.Error()))
	}
	partial := cfgErr != nil
	var errs []error
	for i, p := range profiles {
		if i > 0 && ctx.Err() != nil { // Ctrl-C: stop here
			errs = append(errs, fmt.Errorf("interrupted; still logged in to %s", strings.Join(profiles[i:], ", ")))
			break
		}
		warnings, err := logoutProfile(ctx, e, cfg, st, p)
		for _, w := range warnings {
			fmt.Fprintf(e.Stderr, "alilogin: warning: %s\n", w)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		partial = partial || len(warnings) > 0
		fmt.Fprintf(e.Stderr, "alilogin: logged out of profile %s\n", p)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if partial {
		return exitcode.Silent(exitPartial)
	}
	return nil
}

// loadForLogout is loadLocal that does not let an invalid configuration
// (a refused discovery document, a bad config file) keep the user from
// logging out: cfgErr says what is wrong, and cfg then holds only the
// store and TLS settings of the user's own layers, no address, so that
// tokens are revoked only where the record says they belong.
func loadForLogout(e *cmdEnv, o sessionOptions) (cfg *config.Config, st store.Store, cfgErr, err error) {
	cfg, cfgErr = config.Resolve(config.Sources{Getenv: e.getenv, Discover: cachedDiscovery(e)})
	if cfgErr != nil {
		cfg = &config.Config{}
		if own, err := config.Resolve(config.Sources{Getenv: e.getenv}); err == nil {
			cfg.Store, cfg.DefaultProfile = own.Store, own.DefaultProfile
			cfg.Vault.TLS, cfg.Nomad.TLS, cfg.Consul.TLS = own.Vault.TLS, own.Nomad.TLS, own.Consul.TLS
		} else {
			env := config.FromEnv(e.getenv)
			cfg.Store, cfg.DefaultProfile = env.Store, env.DefaultProfile
		}
	}
	if st, err = openStore(e, o, cfg); err != nil {
		return nil, nil, nil, err
	}
	return cfg, st, cfgErr, nil
}

// logoutProfiles are the profiles o names: every stored one with --all,
// else --profile, the default profile or the only stored one. None (and
// a notice) when nothing is stored.
func logoutProfiles(e *cmdEnv, cfg *config.Config, st store.Store, o *logoutOptions) ([]string, error) {
	p := o.Profile
	if p == "" && !o.All {
		p = cfg.DefaultProfile
	}
	if p != "" {
		if !config.ValidProfileName(p) {
			return nil, exitcode.With(exitUsage, fmt.Errorf("invalid profile name %q", p))
		}
		return []string{p}, nil
	}
	names, err := st.List()
	if err != nil {
		return nil, fmt.Errorf("could not list stored logins: %w", err)
	}
	switch {
	case len(names) == 0:
		fmt.Fprintln(e.Stderr, "alilogin: no stored login")
		return nil, nil
	case len(names) > 1 && !o.All:
		return nil, exitcode.With(exitUsage, fmt.Errorf("logged in to several profiles (%s); choose one with --profile or ALILOGIN_PROFILE, or use --all", strings.Join(names, ", ")))
	}
	return names, nil
}

// writerLockWait is how long logout and login wait for the profile's lock
// before they give up (and change nothing): longer than a renewal can
// hold it, since each of its few server calls is bounded by a 30 s
// timeout.
const writerLockWait = 5 * time.Minute

// lockForWrite takes the profile's lock for a command that deletes or
// replaces its record, saying so on stderr when it has to wait. It fails
// when the wait times out or ctx ends (Ctrl-C): such a command never
// writes without the lock, since a renewal that holds it could otherwise
// store its record back after the write, or leave what it minted alive.
func lockForWrite(ctx context.Context, e *cmdEnv, profile string) (*renew.Lock, error) {
	dir, err := renew.LockDir(e.getenv)
	if err != nil {
		return nil, fmt.Errorf("could not lock profile %s: %w", profile, err)
	}
	// From here a Ctrl-C cancels ctx (main's signalContext takes the
	// signals on first use) instead of ending the process mid-wait.
	_ = ctx.Done()
	wait := e.LockWait
	if wait <= 0 {
		wait = writerLockWait
	}
	l, err := renew.AcquireOrWait(ctx, dir, profile, wait, func() {
		fmt.Fprintf(e.Stderr, "alilogin: waiting for another alilogin to finish renewing profile %s (Ctrl-C to give up)\n", profile)
	})
	switch {
	case err == nil:
		return l, nil
	case ctx.Err() != nil:
		return nil, errInterrupted
	case errors.Is(err, renew.ErrLockTimeout):
		path, _ := renew.LockPath(dir, profile)
		return nil, fmt.Errorf("another alilogin has held the lock of profile %s (%s) for %s; try again once it has finished (the lock ends with the process that holds it: fuser %s names it)", profile, path, wait, path)
	}
	return nil, err
}

// errInterrupted: Ctrl-C (or SIGTERM) while waiting for the lock.
var errInterrupted = errors.New("interrupted")

// logoutProfile revokes what it can and deletes the record, under the
// profile's lock: a renewal in flight finishes (and stores what it got)
// first, and its tokens are then revoked with the rest. Without the lock
// (timeout, Ctrl-C) nothing is revoked or deleted. Warnings are what
// could not be revoked; an error means the record is still there.
func logoutProfile(ctx context.Context, e *cmdEnv, cfg *config.Config, st store.Store, profile string) (warnings []string, err error) {
	l, err := lockForWrite(ctx, e, profile)
	if errors.Is(err, errInterrupted) {
		return nil, fmt.Errorf("interrupted while waiting for the lock of profile %s; still logged in", profile)
	}
	if err != nil {
		return nil, fmt.Errorf("could not log out of profile %s, nothing was revoked or deleted: %w", profile, err)
	}
	defer l.Release()
	// Once the lock is held the logout runs to its end: a Ctrl-C now
	// would only leave the tokens alive. Each revocation is bounded.
	ctx = context.WithoutCancel(ctx)
	rec, err := st.Get(profile)
	var ce *store.CorruptError
	switch {
	case errors.Is(err, store.ErrNotFound):
		fmt.Fprintf(e.Stderr, "alilogin: no stored login for profile %s\n", profile)
		return nil, nil
	case errors.As(err, &ce):
		warnings = append(warnings, fmt.Sprintf("the stored login of profile %s is unreadable, so its tokens could not be revoked; they expire on their own", profile))
		warnings = append(warnings, revokeCert(ctx, e, cfg, &store.Record{Profile: profile}, true)...) // clientcert.go: the files still go
	case err != nil:
		return nil, err
	default:
		warnings = append(warnings, revokeRecord(ctx, e, cfg, rec)...)
	}
	var ge *store.GenerationError
	switch err := st.Delete(profile); {
	case errors.As(err, &ge):
		// Deleted; only the kernel cache could not be told so everywhere.
		warnings = append(warnings, ge.Error())
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return warnings, fmt.Errorf("could not delete the stored login of profile %s: %w", profile, err)
	}
	return warnings, nil
}

// revokeRecord revokes the Vault token (and with it the Nomad and Consul
// leases) and the refresh token.
func revokeRecord(ctx context.Context, e *cmdEnv, cfg *config.Config, rec *store.Record) (warnings []string) {
	now := e.now()
	warnings = revokeCert(ctx, e, cfg, rec, true) // clientcert.go: before the Vault token that revokes it
	if rec.Vault.ValidFor(now, 0) {
		if own, _ := check.Canonical(cfg.Vault.Addr); cfg.Vault.Addr != "" && rec.VaultAddr != "" && own != rec.VaultAddr {
			fmt.Fprintf(e.Stderr, "alilogin: revoking the Vault token of profile %s at %s, the Vault that issued it (the configured Vault is %s)\n",
				rec.Profile, termtext.Clean(rec.VaultAddr), termtext.Clean(cfg.Vault.Addr))
		}
		err := revokeVault(ctx, cfg, rec)
		switch {
		case err == nil:
		case apiclient.StatusOf(err) == 403:
			// Already revoked or expired at the server.
		default:
			w := fmt.Sprintf("could not revoke the Vault token (accessor %s): %v; it expires at %s", termtext.Clean(rec.Vault.Accessor), err, rec.Vault.ExpiresAt.Local().Format(time.RFC3339))
			for _, t := range []struct {
				name string
				exp  time.Time
				ok   bool
			}{{"Nomad", expOf(rec.Nomad), rec.Nomad != nil}, {"Consul", expOf(rec.Consul), rec.Consul != nil}} {
				if t.ok && t.exp.After(now) {
					w += fmt.Sprintf("; the %s token's lease ends at %s", t.name, t.exp.Local().Format(time.RFC3339))
				}
			}
			warnings = append(warnings, w)
		}
	}
	if !rec.RefreshToken.Empty() {
		issuer, clientID, ok := refreshBinding(cfg, rec)
		if !ok {
			warnings = append(warnings, "could not revoke the refresh token: the stored login does not say which SSO issuer and client id it was made with; the SSO ends the session when it expires")
			return warnings
		}
		err := revokeRefresh(ctx, oidc.Config{Issuer: issuer, ClientID: clientID, Scopes: cfg.Scopes, InsecureHTTP: cfg.InsecureHTTP}, rec)
		switch {
		case err == nil:
		case errors.Is(err, oidc.ErrNoRevocation):
			fmt.Fprintf(e.Stderr, "alilogin: the SSO at %s cannot revoke refresh tokens; it ends the session when it expires\n", termtext.Clean(issuer))
		default:
			warnings = append(warnings, fmt.Sprintf("could not revoke the refresh token: %v", err))
		}
	}
	return warnings
}

// refreshBinding is where the refresh token of rec may be revoked: at the
// issuer that made it (the record's, whatever is configured now), with
// the client id it was issued to. A record of an earlier alilogin has no
// client id: the configured one is used only when the configured issuer
// is the record's, so that the token still goes nowhere but to its own
// issuer (which refuses it for a client it was not issued to). ok is
// false when the record does not name its issuer.
func refreshBinding(cfg *config.Config, rec *store.Record) (issuer, clientID string, ok bool) {
	switch {
	case rec.Issuer == "":
		return "", "", false
	case rec.ClientID != "":
		return rec.Issuer, rec.ClientID, true
	case cfg.ClientID != "" && cfg.Issuer == rec.Issuer:
		return rec.Issuer, cfg.ClientID, true
	}
	return "", "", false
}

func expOf(t *store.Token) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.ExpiresAt
}

// revokeVault revokes rec's Vault token at the Vault that issued it.
func revokeVault(ctx context.Context, cfg *config.Config, rec *store.Record) error {
	v, err := recordVault(cfg, rec)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return issue.Revoke(ctx, v.WithToken(rec.Vault.Secret))
}

// recordVault is a client for the Vault that issued rec's Vault token:
// the address the record names, whatever is configured now (a changed
// VAULT_ADDR, config file or discovery document never receives it). The
// configured TLS settings apply only when the record's Vault is the
// configured one; for another Vault, the system roots are the trust and
// no client certificate is sent: the configured CA file (say, a dev
// Vault's) must not vouch for the recorded Vault's address, and a
// revocation that then fails is a warning. The token is not sent at all, and the error says why, when the
// record does not name its Vault (an earlier alilogin wrote it) or when
// its address no longer passes the address rules (check.Address).
func recordVault(cfg *config.Config, rec *store.Record) (*apiclient.Client, error) {
	if rec.VaultAddr == "" {
		return nil, errors.New("the stored login does not say which Vault issued it (an earlier alilogin wrote it), so it is not sent anywhere")
	}
	if err := check.Address(rec.VaultAddr, cfg.InsecureHTTP); err != nil {
		return nil, fmt.Errorf("the address of the Vault that issued it is refused now, so it is not sent there: %w", err)
	}
	t := cfg.Vault.TLS
	// The TLS files configured for another Vault (a dev Vault's CA in a
	// project's .envrc) are not trusted for this one: system roots then.
	// With no Vault address configured, the user's own TLS settings stand.
	if cfg.Vault.Addr != "" {
		if own, err := check.Canonical(cfg.Vault.Addr); err != nil || own != rec.VaultAddr {
			t = apiclient.TLS{}
		}
	}
	return serverClient("Vault", "X-Vault-Token", config.Server{Addr: rec.VaultAddr, TLS: t})
}

func revokeRefresh(ctx context.Context, cfg oidc.Config, rec *store.Record) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	c, err := oidc.New(ctx, cfg)
	if err != nil {
		return err
	}
	return c.Revoke(ctx, rec.RefreshToken)
}
