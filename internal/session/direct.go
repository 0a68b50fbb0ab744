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
// chain's ports renew.DirectLoginer (directLogin) and renew.VaultProbe
// (vaultProbe, with its memory: availability); the profile's
// renew.Direct is chain.go's directFor. The ID token goes only to the Nomad
// and Consul clients of the configured addresses, which are the login's
// recorded ones (renew.Chain.Bound runs first): their origin, redirect
// and proxy rules are every token's (apiclient.For).

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

// availability is the configured Vault's short probe with its memory in
// the lock directory (none when that cannot be found: every call probes).
func availability(e Env, cfg *config.Config, cl *Clients) *renew.Availability {
	addr, _ := check.Canonical(cfg.Vault.Addr)
	a := &renew.Availability{Addr: addr, Probe: vaultProbe{cl.Vault}, Now: e.now}
	if dir, err := store.LockDir(e.getenv); err == nil {
		a.Memory = renew.FileMemory{Dir: dir}
	}
	return a
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
