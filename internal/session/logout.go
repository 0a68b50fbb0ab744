package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/oidc"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// Logout logs out of the profiles o names (Profiles): every stored one
// with --all, else the one chosen; each under its lock, revoking what it
// can and deleting the record (where logout clears the caches: the
// store's Delete drops every kernel-cache copy), and clearing the
// current profile when it is the one logged out. --all also revokes and
// deletes the sign-in an earlier login kept (pending.go). It says on stderr what
// it did and could not do. Partial: something could not be revoked, or
// the configuration was ignored (exit code 3); an error means a login is
// still stored, or none was stored for the profile named (exit code 1,
// as `gh auth logout` has it; `--all` with nothing stored is no error).
func Logout(ctx context.Context, e Env, o Options) (LogoutResult, error) {
	var res LogoutResult
	if err := o.Check(); err != nil {
		return res, err
	}
	cfg, st, cfgErr, err := loadForLogout(e, o)
	if err != nil {
		return res, err
	}
	if o.All {
		// The sign-in an earlier login kept for the next (pending.go).
		found, warnings := DropPending(ctx, e, cfg, st)
		for _, w := range warnings {
			fmt.Fprintf(e.stderr(), "alilogin: warning: %s\n", w)
		}
		if found && len(warnings) == 0 {
			fmt.Fprintln(e.stderr(), "alilogin: revoked the sign-in kept by an earlier login")
		}
		res.Partial = len(warnings) > 0
	}
	profiles, err := Profiles(e, cfg, st, o)
	switch {
	case err != nil:
		return res, err
	case len(profiles) == 0 && o.All:
		fmt.Fprintln(e.stderr(), "alilogin: no stored login")
		return res, nil
	case len(profiles) == 0:
		// As `gh auth logout` when logged in nowhere: exit 1.
		return res, errors.New("no stored login")
	case len(profiles) == 1:
		if err := checkName(profiles[0]); err != nil {
			return LogoutResult{}, err
		}
	case !o.All:
		return LogoutResult{}, severalError(profiles, true)
	}
	if cfgErr != nil {
		fmt.Fprintf(e.stderr(), "alilogin: warning: ignoring the configuration (%s); logging out with only what the stored login records of where its tokens belong\n", termtext.Clean(cfgErr.Error()))
	}
	res.Partial = res.Partial || cfgErr != nil
	var errs []error
	for i, p := range profiles {
		if i > 0 && ctx.Err() != nil { // Ctrl-C: stop here
			errs = append(errs, fmt.Errorf("interrupted; still logged in to %s", strings.Join(profiles[i:], ", ")))
			break
		}
		warnings, err := logoutProfile(ctx, e, cfg, st, p)
		for _, w := range warnings {
			fmt.Fprintf(e.stderr(), "alilogin: warning: %s\n", w)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res.Partial = res.Partial || len(warnings) > 0
		fmt.Fprintf(e.stderr(), "alilogin: logged out of profile %s\n", p)
		// A logout of the current profile clears it (ClearCurrent).
		if cleared, err := ClearCurrent(e, p); err != nil {
			fmt.Fprintf(e.stderr(), "alilogin: warning: %v\n", err)
		} else if cleared && !o.All {
			res.ClearedCurrent = p
		}
	}
	return res, errors.Join(errs...)
}

// LogoutResult is what a logout did that its caller says or acts on.
type LogoutResult struct {
	// Partial: something could not be revoked, or the configuration was
	// ignored (exit code 3).
	Partial bool
	// ClearedCurrent: the one profile logged out (no --all) was the
	// current one, and there is none now.
	ClearedCurrent string
}

// loadForLogout is Local that does not let an invalid configuration
// (a refused discovery document, a bad config file) keep the user from
// logging out: cfgErr says what is wrong, and cfg then holds only the
// store and TLS settings of the user's own layers, no address, so that
// tokens are revoked only where the record says they belong.
func loadForLogout(e Env, o Options) (cfg *config.Config, st store.Store, cfgErr, err error) {
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

// logoutProfile revokes what it can and deletes the record, under the
// profile's lock: a renewal in flight finishes (and stores what it got)
// first, and its tokens are then revoked with the rest. Without the lock
// (timeout, Ctrl-C) nothing is revoked or deleted. Warnings are what
// could not be revoked; an error means the record is still there.
func logoutProfile(ctx context.Context, e Env, cfg *config.Config, st store.Store, profile string) (warnings []string, err error) {
	l, err := LockForWrite(ctx, e, profile)
	if errors.Is(err, ErrInterrupted) {
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
		// As `gh auth logout --hostname H` for a host it is not logged
		// in to: an error (exit 1), and no "logged out".
		return nil, fmt.Errorf("no stored login for profile %s", profile)
	case errors.As(err, &ce):
		warnings = append(warnings, fmt.Sprintf("the stored login of profile %s is unreadable, so its tokens could not be revoked; they expire on their own", profile))
		warnings = append(warnings, revokeCert(ctx, e, cfg, &store.Record{Profile: profile}, true)...) // the files still go
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

// revokeRecord revokes the client certificate (and deletes its files),
// the Vault token (and with it the Nomad and Consul leases) and the
// refresh token.
func revokeRecord(ctx context.Context, e Env, cfg *config.Config, rec *store.Record) (warnings []string) {
	now := e.now()
	warnings = revokeCert(ctx, e, cfg, rec, true) // before the Vault token that revokes it
	if rec.Vault.ValidFor(now, 0) {
		if own, _ := check.Canonical(cfg.Vault.Addr); cfg.Vault.Addr != "" && rec.VaultAddr != "" && own != rec.VaultAddr {
			fmt.Fprintf(e.stderr(), "alilogin: revoking the Vault token of profile %s at %s, the Vault that issued it (the configured Vault is %s)\n",
				rec.Profile, termtext.Clean(rec.VaultAddr), termtext.Clean(cfg.Vault.Addr))
		}
		err := revokeVault(ctx, cfg, rec)
		switch {
		case err == nil:
		case refused(err):
			// Already revoked or expired at the server.
		default:
			w := fmt.Sprintf("%v (accessor %s); it expires at %s", err, termtext.Clean(rec.Vault.Accessor), rec.Vault.ExpiresAt.Local().Format(time.RFC3339))
			for _, k := range []store.Kind{store.Nomad, store.Consul} {
				if t := rec.Token(k); t != nil && t.ExpiresAt.After(now) {
					w += fmt.Sprintf("; the %s token's lease ends at %s", k.Title(), t.ExpiresAt.Local().Format(time.RFC3339))
				}
			}
			warnings = append(warnings, w)
		}
	}
	warnings = append(warnings, logoutDirect(ctx, e, cfg, rec)...)
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
			fmt.Fprintf(e.stderr(), "alilogin: the SSO at %s cannot revoke refresh tokens; it ends the session when it expires\n", termtext.Clean(issuer))
		default:
			warnings = append(warnings, fmt.Sprintf("could not revoke the refresh token: %v", err))
		}
	}
	return warnings
}

// logoutDirect ends the tokens of rec's direct login (issue 24): the
// Consul token is logged out at the Consul the login recorded
// (/v1/acl/logout); a Nomad token lives until its expiry, which it says
// (Nomad lets only management tokens delete tokens).
func logoutDirect(ctx context.Context, e Env, cfg *config.Config, rec *store.Record) (warnings []string) {
	now := e.now()
	if t := rec.Consul; t.Direct() && t.ValidFor(now, 0) {
		if err := logoutConsulAt(ctx, cfg, rec.ConsulAddr, t); err != nil {
			warnings = append(warnings, fmt.Sprintf("%v (accessor %s); it expires at %s", err, termtext.Clean(t.Accessor), t.ExpiresAt.Local().Format(time.RFC3339)))
		}
	}
	if t := rec.Nomad; t.Direct() && t.ValidFor(now, 0) {
		fmt.Fprintf(e.stderr(), "alilogin: the Nomad token of the direct login (accessor %s) lives until it expires at %s: Nomad lets only management tokens delete tokens\n",
			termtext.Clean(t.Accessor), t.ExpiresAt.Local().Format(time.RFC3339))
	}
	return warnings
}

// logoutConsulAt logs the direct Consul token t out of the Consul at
// addr, the one that issued it (the record's ConsulAddr, whatever is
// configured now); the configured CA is used only when addr is the
// configured Consul. A token the server no longer knows (403) is no
// error.
func logoutConsulAt(ctx context.Context, cfg *config.Config, addr string, t *store.Token) error {
	if addr == "" {
		return errors.New("could not log out of Consul: the stored login does not say which Consul it was made with")
	}
	if err := check.Address(addr, cfg.InsecureHTTP); err != nil {
		return fmt.Errorf("could not log out of Consul: %w", err)
	}
	tls := cfg.Consul.TLS
	if own, err := check.Canonical(cfg.Consul.Addr); err != nil || own != addr {
		tls = apiclient.TLS{} // another Consul's CA vouches for nothing here
	}
	c, err := apiclient.For(apiclient.Consul, addr, tls)
	if err != nil {
		return fmt.Errorf("could not log out of Consul: %w", err)
	}
	lctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := issue.ConsulLogout(lctx, c.WithToken(t.Secret)); err != nil && !refused(err) {
		return err
	}
	return nil
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

// revokeVault revokes rec's Vault token at the Vault that issued it; its
// errors say "could not revoke the Vault token: ..." (issue.Revoke's).
func revokeVault(ctx context.Context, cfg *config.Config, rec *store.Record) error {
	v, err := recordVault(cfg, rec)
	if err != nil {
		return fmt.Errorf("could not revoke the Vault token: %w", err)
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
	return apiclient.For(apiclient.Vault, rec.VaultAddr, t)
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

// revokeCert revokes rec's certificate (while it is valid, with its key,
// at the Vault and mount it came from) and, with files, deletes the
// certificate files: in every directory the record says an alilogin
// wrote them to (store.Record.CertFileDirs: each environment, another
// $XDG_RUNTIME_DIR or none, from ssh or cron, has its own) and in those
// of the current environment (clientcert.EnvDirs), each only when it is
// what Write makes (clientcert.Remove: no symlink, ours, only our
// files). All are tried; a
// failure is a warning, as the certificate expires on its own. When the
// Vault token has expired there is nothing to revoke with: Vault revoked
// the certificate with the token's leases (the role's generate_lease),
// which is checked at <mount>/cert/<serial> (public) and said; a
// certificate that is still unrevoked there is a warning with its
// expiry. (A login that was not kept deletes its own files,
// dropCertFiles; env and exec write the kept login's.)
func revokeCert(ctx context.Context, e Env, cfg *config.Config, rec *store.Record, files bool) (warnings []string) {
	var done []string
	if c := rec.ClientCert; c != nil && c.ValidFor(e.now(), 0) {
		v, err := recordVault(cfg, rec)
		if rec.Vault.ValidFor(e.now(), 0) {
			if err == nil {
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err = clientcert.Revoke(rctx, v.WithToken(rec.Vault.Secret), c.Mount, c) // "could not revoke the client certificate <serial>: ..."
				cancel()
			} else {
				err = fmt.Errorf("could not revoke the client certificate %s: %w", c.Serial, err)
			}
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("%s; it expires at %s", termtext.Clean(err.Error()), c.NotAfter.Local().Format(time.RFC3339)))
			}
		} else {
			revoked := false
			if err == nil {
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				revoked, err = clientcert.Revoked(rctx, v, c)
				cancel()
			}
			switch {
			case err == nil && revoked:
				fmt.Fprintf(e.stderr(), "alilogin: the client certificate %s died with its Vault token: Vault has revoked it\n", termtext.Clean(c.Serial))
			case err == nil:
				warnings = append(warnings, fmt.Sprintf("could not revoke the client certificate %s: its Vault token has expired, and Vault has not revoked the certificate with it; it expires at %s",
					termtext.Clean(c.Serial), c.NotAfter.Local().Format(time.RFC3339)))
			default:
				warnings = append(warnings, fmt.Sprintf("could not revoke the client certificate %s: its Vault token has expired, and %v; it expires at %s",
					termtext.Clean(c.Serial), err, c.NotAfter.Local().Format(time.RFC3339)))
			}
		}
	}
	if !files {
		return warnings
	}
	// Every directory an alilogin may have written the files in: those
	// the record names, from whatever environment, and this
	// environment's own.
	for _, d := range slices.Concat(rec.CertFileDirs(), clientcert.EnvDirs(e.getenv, rec.Profile)) {
		if !slices.Contains(done, d) {
			done = append(done, d)
			if err := clientcert.Remove(d); err != nil {
				warnings = append(warnings, termtext.Clean(err.Error()))
			}
		}
	}
	return warnings
}
