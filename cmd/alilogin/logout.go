package main

import (
	"context"
	"errors"
	"fmt"
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

When a server cannot be reached, the login is still deleted locally; alilogin
warns about what it could not revoke and exits with code 3.`,
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
	var (
		cfg      *config.Config
		st       store.Store
		profiles []string
	)
	if o.All {
		var err error
		if cfg, st, err = loadLocal(e, o.sessionOptions); err != nil {
			return err
		}
		if profiles, err = st.List(); err != nil {
			return fmt.Errorf("could not list stored logins: %w", err)
		}
		if len(profiles) == 0 {
			fmt.Fprintln(e.Stderr, "alilogin: no stored login")
			return nil
		}
	} else {
		s, err := openSession(e, o.sessionOptions)
		if isLoginNeeded(err) {
			fmt.Fprintln(e.Stderr, "alilogin: no stored login")
			return nil
		}
		if err != nil {
			return err
		}
		cfg, st, profiles = s.cfg, s.st, []string{s.profile}
	}
	partial := false
	var errs []error
	for _, p := range profiles {
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

// logoutProfile revokes what it can and deletes the record, under the
// profile's lock: a renewal in flight finishes (and stores what it got)
// first, and its tokens are then revoked with the rest. When the lock
// cannot be had, the logout goes on without it (a hung renewal must not
// keep anyone logged in); a renewal that then finds its record gone
// revokes what it obtained (renew.Ensurer). Warnings are what could not
// be revoked; an error means the record is still there.
func logoutProfile(ctx context.Context, e *cmdEnv, cfg *config.Config, st store.Store, profile string) (warnings []string, err error) {
	if dir, err := renew.LockDir(e.getenv); err != nil {
		warnings = append(warnings, fmt.Sprintf("could not lock profile %s: %v; logging out anyway", profile, err))
	} else {
		l, err := renew.AcquireOrWait(ctx, dir, profile, 0, func() {
			fmt.Fprintf(e.Stderr, "alilogin: waiting for another alilogin to finish renewing profile %s\n", profile)
		})
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("%v; logging out anyway", err))
		} else {
			defer l.Release()
		}
	}
	rec, err := st.Get(profile)
	var ce *store.CorruptError
	switch {
	case errors.Is(err, store.ErrNotFound):
		fmt.Fprintf(e.Stderr, "alilogin: no stored login for profile %s\n", profile)
		return nil, nil
	case errors.As(err, &ce):
		warnings = append(warnings, fmt.Sprintf("the stored login of profile %s is unreadable, so its tokens could not be revoked; they expire on their own", profile))
	case err != nil:
		return nil, err
	default:
		warnings = append(warnings, revokeRecord(ctx, e, cfg, rec)...)
	}
	if err := st.Delete(profile); err != nil && !errors.Is(err, store.ErrNotFound) {
		return warnings, fmt.Errorf("could not delete the stored login of profile %s: %w", profile, err)
	}
	return warnings, nil
}

// revokeRecord revokes the Vault token (and with it the Nomad and Consul
// leases) and the refresh token.
func revokeRecord(ctx context.Context, e *cmdEnv, cfg *config.Config, rec *store.Record) (warnings []string) {
	now := e.now()
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
			w := fmt.Sprintf("could not revoke the Vault token (accessor %s): %v; it expires at %s", rec.Vault.Accessor, err, rec.Vault.ExpiresAt.Local().Format(time.RFC3339))
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
		err := revokeRefresh(ctx, oidc.Config{Issuer: issuer, ClientID: clientID, Scopes: cfg.Scopes}, rec)
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
// configured TLS settings apply; when the record's Vault is not the
// configured one, its server name and certificate-check exception do
// not. The token is not sent at all, and the error says why, when the
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
	if own, err := check.Canonical(cfg.Vault.Addr); err != nil || own != rec.VaultAddr {
		t = apiclient.TLS{CACert: t.CACert, ClientCert: t.ClientCert, ClientKey: t.ClientKey}
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
