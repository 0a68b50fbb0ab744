package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/exitcode"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/oidc"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// Fresh is a new SSO sign-in to turn into a stored login.
type Fresh struct {
	// Profile is the one LoginProfile or the user chose; "" chooses it
	// from the roles (ChooseProfile).
	Profile      string
	IDToken      secret.String // verified
	RefreshToken secret.String
	Identity     *oidc.Identity
	// RevokeRefresh ends the SSO session when the login is not stored;
	// nil: nothing to end.
	RevokeRefresh func(context.Context, secret.String) error
	// Mark is called after each step with its name (login --verbose
	// times them); nil: nothing.
	Mark func(step string)
}

// LoginResult is a stored fresh login.
type LoginResult struct {
	Record  *store.Record
	Minted  *issue.Minted  // the Nomad and Consul tokens or their errors
	Profile config.Profile // the profile's configuration (its roles, no_nomad, no_consul)
	// CertErr is why no client certificate was signed though a PKI
	// mount is configured (clientcert.go); the login is stored anyway.
	CertErr error
	// Current is the current profile after the login: the login's own
	// when none was set before (then MadeCurrent), else the one set.
	Current     string
	MadeCurrent bool
}

// Login is `alilogin login`'s fresh login: it chooses the profile and
// runs the one fresh login (renew.Login, also the chain's step 4): log
// in to Vault with the verified ID token (vaultLogin), mint the
// profile's Nomad and Consul tokens in parallel with it, cap their
// expiries by the Vault token's, store the login under the profile's
// lock (taken once the tokens are minted), and revoke the login it
// replaces. Without the lock (timeout, Ctrl-C) or when the store fails,
// nothing is kept and what was obtained is revoked. A partial mint is
// stored: LoginResult.Minted says what failed.
func Login(ctx context.Context, e Env, cfg *config.Config, st store.Store, cl *Clients, f Fresh) (*LoginResult, error) {
	id := f.Identity
	servers, err := ConfiguredServers(cfg)
	if err != nil {
		return nil, err
	}
	profile := f.Profile
	if profile == "" {
		if profile, err = ChooseProfile(cfg, id.Roles); err != nil {
			return nil, err
		}
	}
	prof, _ := cfg.Profile(profile)
	var kinds []store.Kind
	if !prof.NoNomad && cl.Nomad != nil {
		kinds = append(kinds, store.Nomad)
	}
	if !prof.NoConsul && cl.Consul != nil {
		kinds = append(kinds, store.Consul)
	}
	var rec *store.Record
	var cert *clientcert.Cert // signed before the mints (beforeMint)
	var certErr error
	minted := &issue.Minted{}
	// dropCert revokes the new certificate of a login that is not kept,
	// while its Vault token is still alive (renew.Login revokes it next),
	// and deletes its files (clientcert.go).
	dropCert := func() {
		if cert != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			_ = revokeCert(rctx, e, cfg, rec, false) // clientcert.go
			cancel()
			dropCertFiles(e, cert)
		}
	}
	keep := func(vtok *store.Token, ms []renew.Minted) (*store.Record, func(), error) {
		for _, m := range ms {
			if m.Kind == store.Nomad {
				minted.Nomad, minted.NomadErr = m.Token, m.Err
			} else {
				minted.Consul, minted.ConsulErr = m.Token, m.Err
			}
		}
		rec = &store.Record{
			Version: store.RecordVersion, Profile: profile,
			User: id.User, Roles: id.Roles, Issuer: id.Issuer, ClientID: cfg.ClientID, Subject: id.Subject,
			VaultAddr: servers.Vault, NomadAddr: servers.Nomad, ConsulAddr: servers.Consul,
			VaultTrust: servers.VaultTrust, NomadTrust: servers.NomadTrust, ConsulTrust: servers.ConsulTrust,
			RefreshToken: f.RefreshToken, IDTokenExp: id.Expiry,
			Vault: vtok, Nomad: minted.Nomad, Consul: minted.Consul, UpdatedAt: e.now(),
			ClientCert: cert,
		}
		// The per-profile lock keeps a concurrent `alilogin token`
		// renewal from writing over the new login with the old one.
		l, err := LockForWrite(ctx, e, profile)
		if err != nil {
			dropCert()
			return nil, nil, &lockError{err}
		}
		unlock := func() { l.Release() }
		old, _ := st.Get(profile)
		carryCertDirs(rec, old) // clientcert.go
		if err := st.Put(rec); err != nil {
			dropCert()
			return nil, unlock, err
		}
		return old, unlock, nil
	}
	var checkMu sync.Mutex
	ops := &vaultOps{cl: cl, cfg: cfg, now: e.now, unchecked: func(k store.Kind, ce *issue.CheckError) {
		checkMu.Lock()
		defer checkMu.Unlock()
		if k == store.Nomad {
			minted.NomadCheck = ce
		} else {
			minted.ConsulCheck = ce
		}
	}}
	// The client certificate before the Nomad and Consul tokens: their
	// check at servers that want mTLS presents it (clientcert.go).
	beforeMint := func(ctx context.Context, vtok *store.Token) ([]string, []string) {
		var mcl *Clients
		cert, mcl, certErr = loginCert(ctx, e, cfg, cl, vtok.Secret, profile, id.User)
		if cert == nil {
			return nil, nil
		}
		ops.cl = mcl
		if f.Mark != nil {
			f.Mark("client certificate")
		}
		return []string{"signed a client certificate"}, nil
	}
	_, err = renew.Login(ctx, ops, e.now, renew.FreshLogin{
		Profile: profile, IDToken: f.IDToken, Roles: id.Roles, Kinds: kinds, Mark: f.Mark, Keep: keep,
		BeforeMint: beforeMint,
		RevokeReplaced: func(ctx context.Context, old *store.Record) {
			revokeReplacedCert(ctx, e, cfg, old)
			revokeReplaced(ctx, e, cfg, old, rec.Vault)
		},
	})
	var nk *renew.NotKeptError
	if errors.As(err, &nk) {
		return nil, notKept(ctx, e, profile, f, nk)
	}
	if err != nil {
		return nil, err
	}
	out := &LoginResult{Record: rec, Minted: minted, Profile: prof, CertErr: certErr}
	out.Current, out.MadeCurrent = makeCurrentIfNone(e, profile)
	return out, nil
}

// makeCurrentIfNone makes profile the current profile when none is set,
// so that one interactive login to another profile never changes what a
// script without --profile uses. A failure is a warning: the login is
// stored.
func makeCurrentIfNone(e Env, profile string) (current string, made bool) {
	cur, err := Current(e)
	if err == nil && cur == "" {
		if err = SetCurrent(e, profile); err == nil {
			return profile, true
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr(), "alilogin: warning: %v\n", err)
	}
	return cur, false
}

// lockError: a fresh login did not get the profile's lock.
type lockError struct{ err error }

func (e *lockError) Error() string { return e.err.Error() }

// notKept says why a fresh login was not kept, and ends its SSO session
// when it did not get the lock.
func notKept(ctx context.Context, e Env, profile string, f Fresh, nk *renew.NotKeptError) error {
	var le *lockError
	if !errors.As(nk.Err, &le) {
		if nk.RevokeErr != nil {
			return fmt.Errorf("could not store the login: %w\n(nor revoke the new tokens, which expire in %s: %v)", nk.Err, TTL(nk.Vault.ExpiresAt, e.now()), nk.RevokeErr)
		}
		return fmt.Errorf("could not store the login: %w", nk.Err)
	}
	if !f.RefreshToken.Empty() && f.RevokeRefresh != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_ = f.RevokeRefresh(rctx, f.RefreshToken) // best effort: the SSO session ends on its own
		cancel()
	}
	lerr := le.err
	if errors.Is(lerr, ErrInterrupted) {
		lerr = fmt.Errorf("interrupted while waiting for the lock of profile %s", profile)
	}
	if nk.RevokeErr != nil {
		return fmt.Errorf("%w; the new login was not stored (nor its tokens revoked, which expire in %s: %v); the previous login, if any, is kept", lerr, TTL(nk.Vault.ExpiresAt, e.now()), nk.RevokeErr)
	}
	return fmt.Errorf("%w; the new login was not stored and its tokens were revoked; the previous login, if any, is kept", lerr)
}

// revokeReplaced revokes the Vault token of the login a new one replaced
// (and with it its Nomad/Consul leases), at the Vault that issued it,
// which need not be the one the new login was made with.
func revokeReplaced(ctx context.Context, e Env, cfg *config.Config, old *store.Record, vtok *store.Token) {
	if old == nil || !old.Vault.ValidFor(e.now(), 0) || old.Vault.Secret.Equal(vtok.Secret) {
		return
	}
	ov, err := recordVault(cfg, old)
	if err != nil {
		fmt.Fprintf(e.stderr(), "alilogin: warning: the previous login's Vault token (accessor %s) was not revoked: %v; it expires at %s\n",
			termtext.Clean(old.Vault.Accessor), err, old.Vault.ExpiresAt.Local().Format(time.RFC3339))
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	_ = issue.Revoke(rctx, ov.WithToken(old.Vault.Secret))
	cancel()
}

// vaultLogin is the Vault JWT login of renew.Login: role = profile, the
// profile's required roles named when Vault refuses, with userRoles (may
// be nil).
func vaultLogin(ctx context.Context, cl *Clients, cfg *config.Config, profile string, idToken secret.String, userRoles []string, now time.Time) (*store.Token, error) {
	var required []string
	if p, ok := cfg.Profile(profile); ok {
		required = p.Roles
	}
	known, from := knownProfiles(cfg)
	return issue.Login(ctx, cl.Vault, issue.LoginRequest{Mount: cfg.Vault.Mount, Role: profile, IDToken: idToken,
		UserRoles: userRoles, RequiredRoles: required, KnownProfiles: known, KnownFrom: from}, now)
}

// knownProfiles are the configured profiles' names, for the message of
// a profile Vault does not know, and where they come from: the config
// file, or the broker's discovery document when a broker is configured.
func knownProfiles(cfg *config.Config) (names []string, from string) {
	for _, p := range cfg.Profiles {
		names = append(names, p.Name)
	}
	from = "from the config file"
	if cfg.Broker != "" {
		from = "from the broker's discovery document"
	}
	return names, from
}

// mintOne mints the profile's token of kind k with the Vault token, at
// the configured engine: the mints of renew.Login and the chain's
// re-mint.
func mintOne(ctx context.Context, cl *Clients, cfg *config.Config, vault secret.String, k store.Kind, profile string, now time.Time) (*store.Token, error) {
	if k != store.Nomad && k != store.Consul {
		return nil, fmt.Errorf("could not mint a %s token: not a Vault secrets engine", k)
	}
	t := cl.target(cfg, k)
	if t == nil {
		// Bound refuses these before; a token with no address to go to
		// is never minted.
		return nil, &renew.NotConfiguredError{Server: k}
	}
	return issue.Mint(ctx, cl.Vault.WithToken(vault), k, *t, profile, now)
}

// LoginProfile is the profile of a fresh login chosen before the
// sign-in: --profile, else ALILOGIN_PROFILE, the current profile or
// default_profile. "" means it is to be chosen from the user's roles
// after the sign-in (ChooseProfile), which needs profiles to choose from
// (the config file's, the broker's discovery document's): without any,
// it fails here, before a browser is opened for nothing.
func LoginProfile(e Env, cfg *config.Config, flag string) (string, error) {
	p := flag
	if p == "" {
		var err error
		if p, err = chosen(e, cfg); err != nil {
			return "", err
		}
	}
	if p != "" {
		return p, checkName(p)
	}
	if len(cfg.Profiles) == 0 {
		return "", exitcode.With(ExitUsage, errors.New("no profile given, and none is configured to choose from; use --profile NAME, or get the profiles from your broker with: alilogin setup --broker URL"))
	}
	return "", nil
}

// SeveralProfilesError: the user's roles allow several of the configured
// profiles and none was chosen.
type SeveralProfilesError struct{ Allowed []string }

func (e *SeveralProfilesError) Error() string {
	return fmt.Sprintf("your roles allow several profiles: %s; choose one with --profile (or make one current: alilogin use PROFILE, or set default_profile in the config file)", strings.Join(e.Allowed, ", "))
}

// ChooseProfile picks the profile of a fresh login that LoginProfile
// left to the roles: the only configured profile the user's roles
// allow. Several: a *SeveralProfilesError (exit code 2).
func ChooseProfile(cfg *config.Config, roles []string) (string, error) {
	var allowed, all []string
	for _, p := range cfg.Profiles {
		all = append(all, p.Name)
		if slices.ContainsFunc(p.Roles, func(r string) bool { return slices.Contains(roles, r) }) {
			allowed = append(allowed, p.Name)
		}
	}
	yours := "none"
	if len(roles) > 0 {
		yours = strings.Join(termtext.CleanAll(roles), ", ")
	}
	switch {
	case len(allowed) == 1:
		return allowed[0], nil
	case len(allowed) > 1:
		return "", exitcode.With(ExitUsage, &SeveralProfilesError{Allowed: allowed})
	case len(all) == 0:
		return "", exitcode.With(ExitUsage, errors.New("no profile given and none configured; use --profile NAME"))
	default:
		return "", fmt.Errorf("none of the configured profiles (%s) is allowed for your SSO roles (%s); ask for a role in the CERN Application Portal, or use --profile", strings.Join(all, ", "), yours)
	}
}

// CheckVault is login's preflight: it fails when Vault cannot be
// reached at all (any HTTP answer will do), with what to set when the
// TLS handshake failed.
func CheckVault(ctx context.Context, vault *apiclient.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	err := vault.WithToken(secret.String{}).Do(ctx, "GET", "/v1/sys/health?standbyok=true&perfstandbyok=true", nil, nil)
	if err == nil || !apiclient.Unreachable(err) {
		return nil
	}
	cause := err
	var ae *apiclient.Error
	if errors.As(err, &ae) && ae.Err != nil {
		cause = ae.Err
	}
	msg := cause.Error()
	for _, s := range []string{"certificate required", "bad certificate", "handshake failure", "unknown certificate"} {
		if strings.Contains(msg, s) {
			return fmt.Errorf("Vault at %s requires a client certificate that it accepts: set VAULT_CLIENT_CERT and VAULT_CLIENT_KEY (%v)", vault.Addr, cause)
		}
	}
	if strings.Contains(msg, "certificate signed by unknown authority") || strings.Contains(msg, "x509:") {
		return fmt.Errorf("could not verify the certificate of Vault at %s: set VAULT_CACERT to its CA (%v)", vault.Addr, cause)
	}
	return err
}

// SkippedTokens says which of the Nomad and Consul tokens the profile
// grants login did not mint because no address of their server is
// configured, and why; nil when none.
func SkippedTokens(cfg *config.Config, noNomad, noConsul bool) map[string]string {
	var out map[string]string
	for _, k := range []struct {
		kind store.Kind
		addr string
		none bool
	}{{store.Nomad, cfg.Nomad.Addr, noNomad}, {store.Consul, cfg.Consul.Addr, noConsul}} {
		if k.addr == "" && !k.none {
			if out == nil {
				out = map[string]string{}
			}
			out[string(k.kind)] = (&renew.NotConfiguredError{Server: k.kind}).Error()
		}
	}
	return out
}

// TTL is how long until exp, for people: "ever" past 50 years,
// "expired" when it has passed.
func TTL(exp, now time.Time) string {
	d := exp.Sub(now).Round(time.Second)
	if d > 50*365*24*time.Hour {
		return "ever"
	}
	if d < 0 {
		return "expired"
	}
	return d.String()
}
