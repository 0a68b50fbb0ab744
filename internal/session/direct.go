package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/termtext"
)

// The direct login at Nomad and Consul (issue 24): the adapters of the
// renewal chain's ports (renew.DirectLoginer, renew.VaultProbe) and the
// profile's settings as the chain and the fresh login use them. The ID
// token goes only to the Nomad and Consul clients of the configured
// addresses, which are the login's recorded ones (renew.Chain.Bound runs
// first): their origin, redirect and proxy rules are every token's
// (apiclient.For).

// ProbeTimeout bounds the question to Vault of whether it can issue
// tokens (renew.Availability): a stopped Vault accepts connections and
// never answers.
const ProbeTimeout = 2 * time.Second

// vaultProbe is renew.VaultProbe: issue.AskVaultHealth read CanIssue.
type vaultProbe struct{ vault *apiclient.Client }

func (p vaultProbe) Probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	err := issue.AskVaultHealth(ctx, p.vault).CanIssue(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, issue.ErrVaultSealed), errors.Is(err, issue.ErrNoActiveNode):
		return &chainError{err, renew.ErrSealed}
	}
	return &chainError{err, renew.ErrUnreachable}
}

// directFor is the profile's direct login for the chain and the fresh
// login; nil when the profile has none (or no server of it is
// configured).
func directFor(e Env, cfg *config.Config, cl *Clients, profile string) *renew.Direct {
	p, ok := cfg.Profile(profile)
	if !ok || !p.Direct.On() {
		return nil
	}
	dl := &directLogin{env: e, cfg: cfg, cl: cl}
	d := &renew.Direct{Mode: p.Direct.Mode, Login: dl, Vault: availability(e, cfg, cl),
		LogoutConsul: func(ctx context.Context, addr string, t *store.Token) string {
			return dl.logoutReplaced(ctx, store.Consul, addr, t)
		}}
	if p.Direct.NomadAuthMethod != "" && cl.Nomad != nil && !p.NoNomad {
		d.Kinds = append(d.Kinds, store.Nomad)
	}
	if p.Direct.ConsulAuthMethod != "" && cl.Consul != nil && !p.NoConsul {
		d.Kinds = append(d.Kinds, store.Consul)
	}
	if len(d.Kinds) == 0 {
		return nil
	}
	return d
}

// availability is the configured Vault's short probe with its memory in
// the lock directory (none when that cannot be found: every call probes).
func availability(e Env, cfg *config.Config, cl *Clients) *renew.Availability {
	addr, _ := check.Canonical(cfg.Vault.Addr)
	a := &renew.Availability{Addr: addr, Probe: vaultProbe{cl.Vault}, Now: e.now}
	if dir, err := renew.LockDir(e.getenv); err == nil {
		a.Memory = renew.FileMemory{Dir: dir}
	}
	return a
}

// LoginPreflight is login's check of Vault before the sign-in
// (CheckVault). For a profile with a direct login (the one chosen, or
// any configured when none is chosen yet) a Vault that cannot issue
// tokens is no error: the login gets the Nomad and Consul tokens
// directly; the short probe's answer is remembered for it.
func LoginPreflight(ctx context.Context, e Env, cfg *config.Config, cl *Clients, profile string) error {
	for _, p := range cfg.Profiles {
		if (profile == "" || p.Name == profile) && directFor(e, cfg, cl, p.Name) != nil {
			_ = availability(e, cfg, cl).Check(ctx)
			return nil
		}
	}
	return CheckVault(ctx, cl.Vault)
}

// directLogin is renew.DirectLoginer on issue.DirectLogin.
type directLogin struct {
	env Env
	cfg *config.Config
	cl  *Clients
}

// DirectLogin logs in to the servers of kinds in parallel and puts the
// tokens in rec; a replaced Consul token of a direct login is logged out
// (a Nomad one lives until its expiry: Nomad lets only management tokens
// delete tokens).
func (d *directLogin) DirectLogin(ctx context.Context, rec *store.Record, idToken secret.String, kinds []store.Kind) (*renew.Result, []error) {
	rep := &renew.Result{}
	p, _ := d.cfg.Profile(rec.Profile)
	toks, errs := make([]*store.Token, len(kinds)), make([]error, len(kinds))
	var wg sync.WaitGroup
	for i, k := range kinds {
		server, method := d.server(k), p.Direct.Method(string(k))
		if server == nil || method == "" {
			errs[i] = fmt.Errorf("could not log in to %s directly: profile %s has no auth method there", k.Title(), rec.Profile)
			continue
		}
		wg.Go(func() { toks[i], errs[i] = issue.DirectLogin(ctx, server, k, method, idToken, d.env.now()) })
	}
	wg.Wait()
	var out []error
	for i, k := range kinds {
		if errs[i] != nil {
			out = append(out, &kindError{k, errs[i]})
			continue
		}
		old := rec.Token(k)
		rec.SetToken(k, toks[i])
		rep.Steps = append(rep.Steps, fmt.Sprintf("logged in to %s directly (auth method %s)", k, termtext.Clean(p.Direct.Method(string(k)))))
		if w := d.logoutReplaced(ctx, k, rec.ConsulAddr, old); w != "" {
			rep.Warnings = append(rep.Warnings, w)
		}
	}
	rep.Changed = len(out) < len(kinds)
	return rep, out
}

func (d *directLogin) server(k store.Kind) *apiclient.Client {
	switch k {
	case store.Nomad:
		return d.cl.Nomad
	case store.Consul:
		return d.cl.Consul
	}
	return nil
}

// logoutReplaced logs out of Consul the direct token old, replaced and
// still valid, at addr, the Consul that issued it (logoutConsulAt); a
// warning when it could not.
func (d *directLogin) logoutReplaced(ctx context.Context, k store.Kind, addr string, old *store.Token) string {
	if k != store.Consul || !old.Direct() || !old.ValidFor(d.env.now(), 0) {
		return ""
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := logoutConsulAt(rctx, d.cfg, addr, old); err != nil {
		return fmt.Sprintf("the replaced Consul token %s was not logged out: %v", termtext.Clean(old.Accessor), err)
	}
	return ""
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
