package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/config"
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
	// mount is configured (loginCert); the login is stored anyway.
	CertErr error
	// Current is the current profile after the login: the login's own
	// when none was set before (then MadeCurrent), else the one set.
	Current     string
	MadeCurrent bool
	// CurrentErr is why the current profile could not be read or set (a
	// warning: the login is stored).
	CurrentErr error
}

// Login is `alilogin login`'s fresh login: it chooses the profile and
// the tokens its configuration grants, and makes the one fresh login
// (freshLogin, also the chain's step 4), which stores the login under the
// profile's lock and revokes the one it replaces. Without the lock
// (timeout, Ctrl-C) or when the store fails, nothing is kept and what was
// obtained is revoked. A partial mint is stored: LoginResult.Minted says
// what failed. The profile becomes the current one when none is.
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
	rec := &store.Record{
		Version: store.RecordVersion, Profile: profile,
		User: id.User, Roles: id.Roles, Issuer: id.Issuer, ClientID: cfg.ClientID, Subject: id.Subject,
		VaultAddr: servers.Vault, NomadAddr: servers.Nomad, ConsulAddr: servers.Consul,
		VaultTrust: servers.VaultTrust, NomadTrust: servers.NomadTrust, ConsulTrust: servers.ConsulTrust,
		RefreshToken: f.RefreshToken, IDTokenExp: id.Expiry,
	}
	fl := &freshLogin{env: e, cfg: cfg, cl: cl, store: st, signCert: true, mark: f.Mark, revokeRefresh: f.RevokeRefresh}
	out, err := fl.run(ctx, rec, f.IDToken, kinds)
	if err != nil {
		return nil, err
	}
	for _, w := range out.warnings {
		fmt.Fprintf(e.stderr(), "alilogin: warning: %s\n", w)
	}
	res := &LoginResult{Record: rec, Minted: &out.minted, Profile: prof, CertErr: out.certErr}
	res.Current, res.MadeCurrent, res.CurrentErr = makeCurrentIfNone(e, profile)
	return res, nil
}

// freshLogin is the one fresh login, of `alilogin login` (Login) and of
// the renewal chain's step 4 (FreshLogin, its port) alike.
type freshLogin struct {
	env Env
	cfg *config.Config
	cl  *Clients
	// store, when set (alilogin login), is where the login is kept,
	// under the profile's lock; nil: the caller holds the lock and
	// stores it (the chain).
	store store.Store
	// signCert: sign a client certificate (when a PKI mount is
	// configured). The chain signs one only for a record that had one:
	// a profile may have no PKI role.
	signCert bool
	// mark, when set, is called after each step with its name (login
	// --verbose times them).
	mark func(step string)
	// revokeRefresh ends the SSO session of a login that did not get
	// the lock; nil: nothing to end.
	revokeRefresh func(context.Context, secret.String) error
}

// freshOutcome is what a fresh login obtained besides the record.
type freshOutcome struct {
	minted          issue.Minted // the Nomad and Consul tokens, or why not
	mintErrs        []error      // the mints' errors, in the order of the kinds
	certErr         error        // why no certificate was signed
	steps, warnings []string
}

// run makes rec, the login being made (with its profile, identity and
// servers), a login with the verified ID token, top to bottom:
//
//  1. the Vault login, role = profile; rec.Vault, when set (the chain's
//     token, which the new login replaces for certain), revoked at once;
//  2. the client certificate, before the mints: their checks at Nomad
//     and Consul present it;
//  3. the Nomad and Consul tokens of kinds, minted in parallel and capped
//     by the new Vault token's expiry (Vault revokes them with it); a
//     failed mint is no error (freshOutcome), its token nil;
//  4. with a store, rec stored under the profile's lock; a login not
//     stored is revoked (its certificate, then its Vault token and with
//     it what was minted);
//  5. the login it replaced revoked, at the Vault that issued it.
//
// The error is the Vault login's, or why the login was not stored.
func (l *freshLogin) run(ctx context.Context, rec *store.Record, idToken secret.String, kinds []store.Kind) (*freshOutcome, error) {
	out := &freshOutcome{}
	now := l.env.now
	mark := func(step string) {
		if l.mark != nil {
			l.mark(step)
		}
	}

	// 0. The profile's direct login at Nomad and Consul, if any
	// (direct.go): whether Vault can issue tokens, asked briefly first
	// when it stands in for Vault, and which kinds come from it.
	direct := directFor(l.env, l.cfg, l.cl, rec.Profile)
	var vaultErr error
	var directKinds []store.Kind
	if direct != nil {
		if direct.Mode == renew.DirectFallback {
			vaultErr = direct.Vault.Check(ctx)
		}
		directKinds = direct.Route(kinds, vaultErr)
	}

	// 1. Vault.
	var vtok *store.Token
	if vaultErr == nil {
		var err error
		vctx, cancel := ctx, context.CancelFunc(func() {})
		if direct != nil && direct.Mode == renew.DirectFallback {
			vctx, cancel = context.WithTimeout(ctx, VaultLoginTimeout)
		}
		vtok, err = l.vaultLogin(vctx, rec.Profile, idToken, termtext.CleanAll(rec.Roles))
		cancel()
		switch {
		case err != nil && direct != nil && vaultDown(err):
			// Vault did not answer or is sealed: the direct login stands
			// in, for what it can.
			vaultErr = err
			directKinds = direct.Route(kinds, vaultErr)
			out.warnings = append(out.warnings, fmt.Sprintf("no Vault token: %v", err))
		case err != nil:
			return out, err
		default:
			out.steps = append(out.steps, "logged in to vault")
			mark("Vault login")
		}
	}
	if old := rec.Vault; vtok != nil && old.ValidFor(now(), 0) && !old.Secret.Equal(vtok.Secret) {
		if err := issue.Revoke(ctx, l.cl.Vault.WithToken(old.Secret)); err != nil && !refused(err) {
			out.warnings = append(out.warnings, fmt.Sprintf("could not revoke the replaced Vault token %s: %v", termtext.Clean(old.Accessor), err))
		} else if err == nil {
			out.steps = append(out.steps, "revoked replaced vault token")
		}
	}
	if vtok != nil {
		rec.Vault = vtok
	}

	// 2. The client certificate.
	mcl := l.cl
	if l.signCert && vtok != nil {
		var cert *clientcert.Cert
		cert, mcl, out.certErr = loginCert(ctx, l.env, l.cfg, l.cl, vtok.Secret, rec.Profile, rec.User)
		if cert != nil {
			// The directories of the certificate replaced keep its
			// files until env or exec rewrite them there: the record
			// keeps naming them, and the new one's, for logout.
			rec.CertDirs = rec.CertFileDirs()
			rec.ClientCert = cert
			rec.AddCertDir(cert.Dir)
			out.steps = append(out.steps, fmt.Sprintf("signed a new client certificate (serial %s)", cert.Serial))
			mark("client certificate")
		}
	}

	// 3. Nomad and Consul: minted at Vault, in parallel, or from the
	// direct login.
	var mintKinds []store.Kind
	for _, k := range kinds {
		if !slices.Contains(directKinds, k) {
			mintKinds = append(mintKinds, k)
		}
	}
	toks, errs := make([]*store.Token, len(mintKinds)), make([]error, len(mintKinds))
	var wg sync.WaitGroup
	for i, k := range mintKinds {
		if vtok == nil {
			errs[i] = &renew.VaultUnavailableError{Kind: k, Err: vaultErr}
			continue
		}
		wg.Go(func() { toks[i], errs[i] = mintOne(ctx, mcl, l.cfg, vtok.Secret, k, rec.Profile, now()) })
	}
	wg.Wait()
	for i, k := range mintKinds {
		t, err := toks[i].CappedBy(vtok), errs[i]
		var ce *issue.CheckError
		if t != nil && errors.As(err, &ce) {
			// Minted, not checked at its server: kept, and said.
			out.minted.SetCheck(k, ce)
			err = nil
		}
		if errors.Is(err, issue.ErrNoEngine) && direct != nil && len(direct.Route([]store.Kind{k}, err)) > 0 {
			// No engine at the mount (OpenBao): the direct login below.
			directKinds = append(directKinds, k)
			continue
		}
		if err != nil {
			t = nil // whatever rec held died with its Vault token
			out.mintErrs = append(out.mintErrs, err)
		} else {
			out.steps = append(out.steps, fmt.Sprintf("minted %s token", k))
			if old := rec.Token(k); len(t.Policies) == 0 && old != nil {
				t.Policies = slices.Clone(old.Policies) // same role, same policies
			}
		}
		out.minted.Set(k, t, err)
		rec.SetToken(k, t)
	}
	if len(directKinds) > 0 {
		rep, derrs := direct.Login.DirectLogin(ctx, rec, idToken, directKinds)
		out.steps = append(out.steps, rep.Steps...)
		out.warnings = append(out.warnings, rep.Warnings...)
		out.mintErrs = append(out.mintErrs, derrs...)
		for _, k := range directKinds {
			var err error
			if t := rec.Token(k); !t.Direct() || !t.ValidFor(now(), 0) {
				rec.SetToken(k, nil)
				err = directErr(derrs, k)
			}
			out.minted.Set(k, rec.Token(k), err)
		}
	}
	if rec.Vault == nil && rec.Nomad == nil && rec.Consul == nil {
		// Nothing at all: the login failed.
		return out, errors.Join(append([]error{vaultErr}, out.mintErrs...)...)
	}
	mark("Nomad+Consul tokens")
	if l.store == nil {
		return out, nil
	}

	// 4. Stored under the profile's lock, which keeps a concurrent
	// `alilogin token` renewal from writing over the new login with the
	// old one.
	rec.UpdatedAt = now()
	lk, err := LockForWrite(ctx, l.env, rec.Profile)
	if err != nil {
		return out, l.notKept(ctx, rec, &lockError{err})
	}
	defer lk.Release()
	old, _ := l.store.Get(rec.Profile)
	carryCertDirs(rec, old)
	if err := l.store.Put(rec); err != nil {
		return out, l.notKept(ctx, rec, err)
	}
	mark("store")

	// 5. The login it replaced.
	if old != nil {
		if vtok != nil {
			revokeReplacedCert(ctx, l.env, l.cfg, old)
		}
		l.revokeReplaced(ctx, old, vtok)
		l.logoutReplacedDirect(ctx, old, rec)
	}
	return out, nil
}

// FreshLogin is step 4 of the renewal chain (renew.Loginer): run without
// a store, for the chain holds the profile's lock and stores rec, signing
// a certificate for a record that had one.
func (l *freshLogin) FreshLogin(ctx context.Context, rec *store.Record, idToken secret.String, kinds []store.Kind) (*renew.Result, []error, error) {
	rl := *l
	rl.store, rl.signCert = nil, rec.ClientCert != nil
	out, err := rl.run(ctx, rec, idToken, kinds)
	rep := &renew.Result{Steps: out.steps, Warnings: out.warnings}
	if err != nil {
		return rep, nil, err
	}
	errs := out.mintErrs
	if out.certErr != nil {
		errs = append(errs, fmt.Errorf("could not renew the client certificate: %w", out.certErr))
	}
	return rep, errs, nil
}

// makeCurrentIfNone makes profile the current profile when none is set,
// so that one interactive login to another profile never changes what a
// script without --profile uses. A failure is the caller's warning: the
// login is stored.
func makeCurrentIfNone(e Env, profile string) (current string, made bool, err error) {
	cur, err := Current(e)
	if err == nil && cur == "" {
		if err = SetCurrent(e, profile); err == nil {
			return profile, true, nil
		}
	}
	return cur, false, err
}

// lockError: a fresh login did not get the profile's lock.
type lockError struct{ err error }

func (e *lockError) Error() string { return e.err.Error() }

// notKept revokes what the fresh login rec obtained, which was not
// stored (err says why): its certificate (and files) while its Vault
// token lives, then the Vault token and with it what was minted. It
// ends the SSO session when the login did not get the lock, and says
// why the login was not kept.
func (l *freshLogin) notKept(ctx context.Context, rec *store.Record, err error) error {
	e := l.env
	if rec.ClientCert != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_ = revokeCert(rctx, e, l.cfg, rec, false) // logout.go
		cancel()
		dropCertFiles(e, rec.ClientCert)
	}
	var revokeErr error
	if rec.Vault != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		revokeErr = issue.Revoke(rctx, l.cl.Vault.WithToken(rec.Vault.Secret))
		cancel()
	}
	l.logoutDirect(ctx, rec)
	var le *lockError
	if !errors.As(err, &le) {
		if revokeErr != nil {
			return fmt.Errorf("could not store the login: %w\n(nor revoke the new tokens, which expire in %s: %v)", err, TTL(rec.Vault.ExpiresAt, e.now()), revokeErr)
		}
		return fmt.Errorf("could not store the login: %w", err)
	}
	if !rec.RefreshToken.Empty() && l.revokeRefresh != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_ = l.revokeRefresh(rctx, rec.RefreshToken) // best effort: the SSO session ends on its own
		cancel()
	}
	lerr := le.err
	if errors.Is(lerr, ErrInterrupted) {
		lerr = fmt.Errorf("interrupted while waiting for the lock of profile %s", rec.Profile)
	}
	if revokeErr != nil {
		return fmt.Errorf("%w; the new login was not stored (nor its tokens revoked, which expire in %s: %v); the previous login, if any, is kept", lerr, TTL(rec.Vault.ExpiresAt, e.now()), revokeErr)
	}
	return fmt.Errorf("%w; the new login was not stored and its tokens were revoked; the previous login, if any, is kept", lerr)
}

// revokeReplaced revokes the Vault token of the login a new one replaced
// (and with it its Nomad/Consul leases), at the Vault that issued it,
// which need not be the one the new login was made with.
func (l *freshLogin) revokeReplaced(ctx context.Context, old *store.Record, vtok *store.Token) {
	e := l.env
	if vtok == nil || !old.Vault.ValidFor(e.now(), 0) || old.Vault.Secret.Equal(vtok.Secret) {
		return // (without a new Vault token, Vault did not answer: the old one expires by itself)
	}
	ov, err := recordVault(l.cfg, old)
	if err != nil {
		fmt.Fprintf(e.stderr(), "alilogin: warning: the previous login's Vault token (accessor %s) was not revoked: %v; it expires at %s\n",
			termtext.Clean(old.Vault.Accessor), err, old.Vault.ExpiresAt.Local().Format(time.RFC3339))
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	_ = issue.Revoke(rctx, ov.WithToken(old.Vault.Secret))
	cancel()
}

// vaultLogin is the Vault JWT login: role = profile, the profile's
// required roles named when Vault refuses, with userRoles (may be nil).
func (l *freshLogin) vaultLogin(ctx context.Context, profile string, idToken secret.String, userRoles []string) (*store.Token, error) {
	var required []string
	if p, ok := l.cfg.Profile(profile); ok {
		required = p.Roles
	}
	known, from := knownProfiles(l.cfg)
	return issue.VaultLogin(ctx, l.cl.Vault, issue.VaultLoginRequest{Mount: l.cfg.Vault.Mount, Role: profile, IDToken: idToken,
		UserRoles: userRoles, RequiredRoles: required, KnownProfiles: known, KnownFrom: from}, l.env.now())
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
// the configured engine: the mints of a fresh login and the chain's
// re-mints.
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

// vaultDown reports whether a Vault login's error says Vault did not
// answer, is sealed or failed (any 5xx: a standby with no active node
// answers 500; then the direct login stands in), rather than that it
// refused (403, 400).
func vaultDown(err error) bool {
	return apiclient.Unreachable(err) || apiclient.StatusOf(err) >= 500 || errors.Is(err, context.DeadlineExceeded)
}

// VaultLoginTimeout bounds the Vault login of a profile whose direct
// login stands in for Vault: a Vault whose health answers but whose
// login hangs costs this long, not the client's whole timeout.
const VaultLoginTimeout = 10 * time.Second

// directErr is the error of kind k among a direct login's errors, else
// a generic one.
func directErr(errs []error, k store.Kind) error {
	for _, err := range errs {
		var ke *kindError
		if errors.As(err, &ke) && ke.kind == k {
			return err
		}
	}
	return fmt.Errorf("could not log in to %s directly", k.Title())
}

// kindError is a direct login's error for one kind, its text unchanged.
type kindError struct {
	kind store.Kind
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }

func (e *kindError) Unwrap() error { return e.err }

// logoutDirect logs out of Consul the direct token of rec, a login that
// is not kept (best effort: it expires by itself).
func (l *freshLogin) logoutDirect(ctx context.Context, rec *store.Record) {
	dl := &directLogin{env: l.env, cfg: l.cfg, cl: l.cl}
	_ = dl.logoutReplaced(ctx, store.Consul, rec.ConsulAddr, rec.Consul)
}

// logoutReplacedDirect logs out of Consul the direct token of old, the
// login rec replaced, unless rec holds it still; a warning on stderr
// when it could not.
func (l *freshLogin) logoutReplacedDirect(ctx context.Context, old, rec *store.Record) {
	if rec.Consul != nil && old.Consul != nil && rec.Consul.Secret.Equal(old.Consul.Secret) {
		return
	}
	dl := &directLogin{env: l.env, cfg: l.cfg, cl: l.cl}
	if w := dl.logoutReplaced(ctx, store.Consul, old.ConsulAddr, old.Consul); w != "" {
		fmt.Fprintf(l.env.stderr(), "alilogin: warning: %s\n", w)
	}
}
