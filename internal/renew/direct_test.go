package renew

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// fakeProbe answers the short probe with err and counts the questions.
type fakeProbe struct {
	err   error
	calls int
}

func (p *fakeProbe) Probe(context.Context) error { p.calls++; return p.err }

var errProbeDown = fmt.Errorf("Vault at https://vault.example:8200 did not answer within 2s: %w", ErrUnreachable)

// TestAvailabilityRemembersAFailure: a failed probe is remembered, in a
// file that another process reads too, for the hold: no question is
// asked meanwhile; after it Vault is asked again, and a success forgets
// the failure. A sealed Vault matches ErrSealed, a stopped one
// ErrUnreachable; a failure dated in the future is not trusted.
func TestAvailabilityRemembersAFailure(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	probe := &fakeProbe{err: errProbeDown}
	a := &Availability{Addr: testServers.Vault, Probe: probe, Memory: FileMemory{Dir: dir}, Hold: 30 * time.Second, Now: clk.now}
	ctx := context.Background()

	err := a.Check(ctx)
	var de *DownError
	if !errors.As(err, &de) || !errors.Is(err, ErrUnreachable) || errors.Is(err, ErrSealed) || de.Remembered || probe.calls != 1 {
		t.Fatalf("first check: %v (remembered %v), %d probes; want the probe's failure, unreachable", err, de != nil && de.Remembered, probe.calls)
	}
	// Another process (another Availability on the same directory), 29s later.
	clk.add(29 * time.Second)
	other := &Availability{Addr: testServers.Vault, Probe: probe, Memory: FileMemory{Dir: dir}, Hold: 30 * time.Second, Now: clk.now}
	if err := other.Check(ctx); !errors.As(err, &de) || !de.Remembered || !errors.Is(err, ErrUnreachable) || probe.calls != 1 {
		t.Fatalf("within the hold: %v, %d probes; want the remembered failure and no probe", err, probe.calls)
	}
	// Another Vault is not remembered as down.
	otherVault := &Availability{Addr: "https://other.example:8200", Probe: &fakeProbe{}, Memory: FileMemory{Dir: dir}, Now: clk.now}
	if err := otherVault.Check(ctx); err != nil {
		t.Errorf("another Vault's check: %v", err)
	}
	// After the hold: asked again; now sealed.
	clk.add(2 * time.Second)
	probe.err = fmt.Errorf("Vault is sealed: %w", ErrSealed)
	if err := a.Check(ctx); !errors.Is(err, ErrSealed) || probe.calls != 2 {
		t.Fatalf("after the hold: %v, %d probes; want a new probe, sealed", err, probe.calls)
	}
	if err := a.Check(ctx); !errors.As(err, &de) || !de.Remembered || !de.Sealed || probe.calls != 2 {
		t.Fatalf("sealed, remembered: %v, %d probes", err, probe.calls)
	}
	// Back: the next check after the hold succeeds and forgets.
	clk.add(31 * time.Second)
	probe.err = nil
	if err := a.Check(ctx); err != nil || probe.calls != 3 {
		t.Fatalf("Vault back: %v, %d probes", err, probe.calls)
	}
	if _, _, ok := (FileMemory{Dir: dir}).Failure(testServers.Vault); ok {
		t.Error("a success left the failure remembered")
	}
	// A failure dated in the future (a clock set back) is not trusted.
	(FileMemory{Dir: dir}).Remember(testServers.Vault, clk.now().Add(time.Hour), false)
	if err := a.Check(ctx); err != nil || probe.calls != 4 {
		t.Errorf("a failure from the future: %v, %d probes; want a probe", err, probe.calls)
	}
	// The memory file is private.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v", e.Name(), fi.Mode())
		}
	}
}

// TestDirectRoute: which tokens come from the direct login: with mode
// "always" every kind with an auth method; with "fallback" those only
// when Vault cannot issue them; never the Vault token, never a kind
// without an auth method, none with no mode or no login.
func TestDirectRoute(t *testing.T) {
	all := []store.Kind{store.Vault, store.Nomad, store.Consul}
	login := &fakeDirect{}
	for _, c := range []struct {
		name     string
		d        *Direct
		vaultErr error
		want     []store.Kind
	}{
		{"no direct login", nil, errProbeDown, nil},
		{"fallback, Vault up", &Direct{Mode: DirectFallback, Kinds: []store.Kind{store.Nomad, store.Consul}, Login: login}, nil, nil},
		{"fallback, Vault down", &Direct{Mode: DirectFallback, Kinds: []store.Kind{store.Nomad, store.Consul}, Login: login}, errProbeDown, []store.Kind{store.Nomad, store.Consul}},
		{"fallback, no engine", &Direct{Mode: DirectFallback, Kinds: []store.Kind{store.Nomad, store.Consul}, Login: login}, ErrNoEngine, []store.Kind{store.Nomad, store.Consul}},
		{"fallback, only Nomad has a method", &Direct{Mode: DirectFallback, Kinds: []store.Kind{store.Nomad}, Login: login}, errProbeDown, []store.Kind{store.Nomad}},
		{"always, Vault up", &Direct{Mode: DirectAlways, Kinds: []store.Kind{store.Nomad, store.Consul}, Login: login}, nil, []store.Kind{store.Nomad, store.Consul}},
		{"off", &Direct{Mode: "off", Kinds: []store.Kind{store.Nomad, store.Consul}, Login: login}, errProbeDown, nil},
		{"no login port", &Direct{Mode: DirectAlways, Kinds: []store.Kind{store.Nomad}}, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, c.d.Route(all, c.vaultErr)); diff != "" {
				t.Errorf("Route (-want +got):\n%s", diff)
			}
		})
	}
}

// fakeDirect is the direct login: tokens of a minute, marked direct.
type fakeDirect struct {
	now   func() time.Time
	calls [][]store.Kind
	ids   []string
	n     int
}

func (f *fakeDirect) DirectLogin(_ context.Context, rec *store.Record, id secret.String, kinds []store.Kind) (*Result, []error) {
	f.calls = append(f.calls, slices.Clone(kinds))
	f.ids = append(f.ids, id.Reveal())
	rep := &Result{}
	for _, k := range kinds {
		f.n++
		now := f.now()
		rec.SetToken(k, &store.Token{Secret: secret.New(fmt.Sprintf("direct-%s-%d", k, f.n)), IssuedAt: now, ExpiresAt: now.Add(time.Minute),
			TTL: time.Minute, Origin: store.FromDirect})
		rep.Steps = append(rep.Steps, fmt.Sprintf("logged in to %s directly", k))
	}
	return rep, nil
}

// TestChainFallsBackToDirectLogin: with a fallback profile and Vault
// down, the chain sends Vault nothing (the probe says so, then its
// memory), gets Nomad and Consul tokens from the direct login with a
// refreshed ID token, refuses a Vault token quickly, and, once Vault is
// back and the failure no longer remembered, renews through Vault again.
func TestChainFallsBackToDirectLogin(t *testing.T) {
	e, rec := setup(t)
	ctx := context.Background()
	probe := &fakeProbe{err: errProbeDown}
	direct := &fakeDirect{now: e.clk.now}
	e.chain.Direct = &Direct{Mode: DirectFallback, Kinds: []store.Kind{store.Nomad, store.Consul}, Login: direct,
		Vault: &Availability{Addr: testServers.Vault, Probe: probe, Memory: FileMemory{Dir: t.TempDir()}, Hold: 30 * time.Second, Now: e.clk.now}}
	e.vault.down = true // a stopped Vault: each call would cost a client timeout

	// An hour later: every token has expired.
	e.clk.add(time.Hour + time.Minute)
	out, res, err := e.chain.Run(ctx, rec, []store.Kind{store.Nomad})
	if err != nil {
		t.Fatalf("Run: %v (steps %v)", err, res.Steps)
	}
	if len(e.vault.calls) != 0 {
		t.Errorf("Vault was asked %v though the probe said it is down", e.vault.calls)
	}
	if !out.Nomad.Direct() || out.Vault != nil || e.sso.calls != 1 || !slices.Equal(direct.ids, []string{"good-id-token"}) {
		t.Fatalf("nomad direct %v, vault token kept %v, %d refresh grants, ID tokens %v", out.Nomad.Direct(), out.Vault != nil, e.sso.calls, direct.ids)
	}
	// Consul, a moment later: the remembered failure, no probe.
	out, _, err = e.chain.Run(ctx, out, []store.Kind{store.Consul})
	if err != nil || !out.Consul.Direct() || probe.calls != 1 || len(e.vault.calls) != 0 {
		t.Fatalf("consul: %v, direct %v, %d probes, vault calls %v", err, out.Consul.Direct(), probe.calls, e.vault.calls)
	}
	// A Vault token cannot be had: said at once, as Vault's unavailability.
	_, _, err = e.chain.Run(ctx, out, []store.Kind{store.Vault})
	var ue *VaultUnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUnreachable) || len(e.vault.calls) != 0 {
		t.Fatalf("vault token with Vault down: %v, vault calls %v", err, e.vault.calls)
	}

	// Vault back; after the hold, the next renewal goes through Vault:
	// a fresh Vault login (the record has no Vault token) that mints the
	// Nomad and Consul tokens there.
	e.vault.down, probe.err = false, nil
	e.clk.add(time.Minute)
	out, res, err = e.chain.Run(ctx, out, []store.Kind{store.Nomad})
	if err != nil {
		t.Fatalf("Vault back: %v", err)
	}
	if out.Vault == nil || out.Nomad.Direct() || out.Consul.Direct() || out.Nomad.LeaseID == "" || len(direct.calls) != 2 {
		t.Errorf("Vault back: vault token %v, nomad direct %v, consul direct %v, direct logins %v; steps %v",
			out.Vault != nil, out.Nomad.Direct(), out.Consul.Direct(), direct.calls, res.Steps)
	}
}

// TestChainAlwaysDirect: with mode "always", Nomad and Consul come from
// the direct login even with Vault up, and Vault is not asked for them;
// one short probe asks whether Vault answers before the refresh revokes
// the record's Vault token there (a stopped Vault costs no timeout).
func TestChainAlwaysDirect(t *testing.T) {
	e, rec := setup(t)
	direct := &fakeDirect{now: e.clk.now}
	probe := &fakeProbe{}
	e.chain.Direct = &Direct{Mode: DirectAlways, Kinds: []store.Kind{store.Nomad, store.Consul}, Login: direct,
		Vault: &Availability{Addr: testServers.Vault, Probe: probe, Now: e.clk.now}}
	e.clk.add(56 * time.Minute) // the Vault token and leases are near their end
	out, res, err := e.chain.Run(context.Background(), rec, []store.Kind{store.Nomad, store.Consul})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Nomad.Direct() || !out.Consul.Direct() || slices.ContainsFunc(e.vault.calls, func(c string) bool { return c == "mint nomad" || c == "mint consul" }) || probe.calls != 1 {
		t.Errorf("always: nomad direct %v, consul direct %v, vault calls %v, probes %d; steps %v", out.Nomad.Direct(), out.Consul.Direct(), e.vault.calls, probe.calls, res.Steps)
	}
}

// TestDirectRefreshOfAnotherIdentityAsksNoDownVault: when the refresh
// for a direct login names another identity with Vault down, the login
// is dropped without a call to Vault (which would wait for its client
// timeout), and a warning says the Vault token was not revoked.
func TestDirectRefreshOfAnotherIdentityAsksNoDownVault(t *testing.T) {
	e, rec := setup(t)
	e.sso.subject = "mallory-sub"
	e.chain.Direct = &Direct{Mode: DirectFallback, Kinds: []store.Kind{store.Nomad}, Login: &fakeDirect{now: e.clk.now},
		Vault: &Availability{Addr: testServers.Vault, Probe: &fakeProbe{err: errProbeDown}, Now: e.clk.now}}
	e.vault.down = true
	e.clk.add(58 * time.Minute) // the Vault token still valid, the Nomad lease near its end
	_, res, err := e.chain.Run(context.Background(), rec, []store.Kind{store.Nomad})
	var ie *IdentityChangedError
	if !errors.As(err, &ie) || !res.Drop || len(e.vault.calls) != 0 || len(res.Warnings) != 1 {
		t.Errorf("err %v, drop %v, vault calls %v, warnings %v", err, res.Drop, e.vault.calls, res.Warnings)
	}
}
