package renew

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/google/go-cmp/cmp"
)

// fakeVault keeps Vault's semantics that the chain relies on: tokens and
// leases with expiries, max TTLs, and leases that die with their token.
type fakeVault struct {
	mu       sync.Mutex
	now      func() time.Time
	ttl      time.Duration // of logins and leases
	maxTTL   time.Duration
	leaseTTL time.Duration // of new leases when set, like nomad's 768h default
	tokens   map[string]*fakeTok
	leases   map[string]*fakeLease
	n        int
	down     bool
	calls    []string
	mintFail error
	// hook, when set, runs at each call (with the lock held: it must not
	// call the fake), as another process would act meanwhile.
	hook func(call string)
}

type fakeTok struct {
	exp, max time.Time
	revoked  bool
}

type fakeLease struct {
	parent   secret.String
	exp, max time.Time
	revoked  bool
}

func newFakeVault(now func() time.Time) *fakeVault {
	return &fakeVault{now: now, ttl: time.Hour, maxTTL: 4 * time.Hour, tokens: map[string]*fakeTok{}, leases: map[string]*fakeLease{}}
}

// errDown and denied are the errors of the adapters (internal/session):
// a server's own, matching the chain's sentinels.
var errDown = fmt.Errorf("could not reach Vault at http://127.0.0.1:1: connection refused: %w", ErrUnreachable)

func denied(path string) error {
	return fmt.Errorf("Vault refused PUT %s (403): permission denied: %w", path, ErrDenied)
}

func (f *fakeVault) call(name string) error {
	f.calls = append(f.calls, name)
	if f.hook != nil {
		f.hook(name)
	}
	if f.down {
		return errDown
	}
	return nil
}

func (f *fakeVault) live(t secret.String) bool {
	tk := f.tokens[t.Reveal()]
	return tk != nil && !tk.revoked && f.now().Before(tk.exp)
}

func (f *fakeVault) Login(_ context.Context, id secret.String, profile string, _ []string) (*store.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("login"); err != nil {
		return nil, err
	}
	if id.Reveal() != "good-id-token" {
		return nil, denied("/v1/auth/jwt/login")
	}
	f.n++
	s := secret.New(fmt.Sprintf("hvs.v%d", f.n))
	now := f.now()
	f.tokens[s.Reveal()] = &fakeTok{exp: now.Add(f.ttl), max: now.Add(f.maxTTL)}
	return &store.Token{Secret: s, Accessor: "acc-" + s.Reveal(), Renewable: true, IssuedAt: now, ExpiresAt: now.Add(f.ttl), MaxExpiresAt: now.Add(f.maxTTL)}, nil
}

func (f *fakeVault) RenewSelf(_ context.Context, t *store.Token) (*store.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("renew-self"); err != nil {
		return nil, err
	}
	if !f.live(t.Secret) {
		return nil, denied("/v1/auth/token/renew-self")
	}
	tk := f.tokens[t.Secret.Reveal()]
	tk.exp = minTime(f.now().Add(f.ttl), tk.max)
	cp := *t
	cp.ExpiresAt = tk.exp
	return &cp, nil
}

func (f *fakeVault) RenewLease(_ context.Context, v secret.String, t *store.Token) (*store.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("renew-lease " + t.LeaseID); err != nil {
		return nil, err
	}
	l := f.leases[t.LeaseID]
	if !f.live(v) || l == nil || l.revoked || !f.now().Before(l.exp) || !l.parent.Equal(v) {
		return nil, errors.New("Vault answered 400: lease not found")
	}
	ttl := f.ttl
	if f.leaseTTL > 0 {
		ttl = f.leaseTTL
	}
	l.exp = minTime(f.now().Add(ttl), l.max)
	cp := *t
	cp.ExpiresAt = l.exp
	return &cp, nil
}

func (f *fakeVault) Mint(_ context.Context, v secret.String, k store.Kind, profile string) (*store.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("mint " + string(k)); err != nil {
		return nil, err
	}
	if f.mintFail != nil {
		return nil, f.mintFail
	}
	if !f.live(v) {
		return nil, denied("/v1/" + string(k) + "/creds/" + profile)
	}
	f.n++
	id := fmt.Sprintf("%s/creds/%s/%d", k, profile, f.n)
	now := f.now()
	ttl := f.ttl
	if f.leaseTTL > 0 {
		ttl = f.leaseTTL
	}
	f.leases[id] = &fakeLease{parent: v, exp: now.Add(ttl), max: now.Add(max(f.maxTTL, ttl))}
	return &store.Token{Secret: secret.New(fmt.Sprintf("%s-secret-%d", k, f.n)), LeaseID: id, Renewable: true, IssuedAt: now, ExpiresAt: now.Add(ttl)}, nil
}

func (f *fakeVault) RevokeLease(_ context.Context, v secret.String, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("revoke-lease " + id); err != nil {
		return err
	}
	if l := f.leases[id]; l != nil {
		l.revoked = true
	}
	return nil
}

func (f *fakeVault) RevokeSelf(_ context.Context, v secret.String) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("revoke-self"); err != nil {
		return err
	}
	if !f.live(v) {
		return denied("/v1/auth/token/revoke-self")
	}
	f.tokens[v.Reveal()].revoked = true
	for _, l := range f.leases {
		if l.parent.Equal(v) {
			l.revoked = true
		}
	}
	return nil
}

// leaseLive reports whether the lease exists, unexpired, with a live parent.
func (f *fakeVault) leaseLive(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.leases[id]
	return l != nil && !l.revoked && f.now().Before(l.exp) && f.live(l.parent)
}

type fakeSSO struct {
	mu      sync.Mutex
	valid   map[string]bool
	n       int
	calls   int    // refresh grants asked for, refused or not
	subject string // of the refreshed ID tokens; "" = "alice-sub"
	refused bool
	down    bool
}

func (s *fakeSSO) Refresh(_ context.Context, rt secret.String) (*Refreshed, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.down {
		return nil, errors.New("SSO at http://127.0.0.1:2 is unreachable")
	}
	if s.refused || !s.valid[rt.Reveal()] {
		return nil, fmt.Errorf("%w: the SSO refused the refresh token (invalid_grant)", ErrLoginNeeded)
	}
	delete(s.valid, rt.Reveal()) // rotation: single use
	s.n++
	next := secret.New(fmt.Sprintf("rt-%d", s.n))
	s.valid[next.Reveal()] = true
	sub := s.subject
	if sub == "" {
		sub = "alice-sub"
	}
	return &Refreshed{IDToken: secret.New("good-id-token"), RefreshToken: next, Issuer: testIssuer, Subject: sub, User: "alice", Roles: []string{"r"}}, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var testServers = Servers{Vault: "https://vault.example:8200", Nomad: "https://nomad.example:4646", Consul: "https://consul.example:8501"}

type env struct {
	clk   *clock
	vault *fakeVault
	sso   *fakeSSO
	chain *Chain
}

// setup logs in like `alilogin login` would and returns a full record.
func setup(t *testing.T) (*env, *store.Record) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	e := &env{clk: clk, vault: newFakeVault(clk.now), sso: &fakeSSO{valid: map[string]bool{"rt-0": true}}}
	e.chain = &Chain{Vault: e.vault, SSO: e.sso, Issuer: testIssuer, ClientID: testClient, Servers: testServers, MinTTL: 5 * time.Minute, Now: clk.now}
	e.chain.Login = &fakeLogin{vault: e.vault, chain: e.chain}
	ctx := context.Background()
	v, err := e.vault.Login(ctx, secret.New("good-id-token"), "ci", nil)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := e.vault.Mint(ctx, v.Secret, store.Nomad, "ci")
	c, _ := e.vault.Mint(ctx, v.Secret, store.Consul, "ci")
	e.vault.calls = nil
	return e, &store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice", Issuer: testIssuer, ClientID: testClient, Subject: "alice-sub",
		VaultAddr: testServers.Vault, NomadAddr: testServers.Nomad, ConsulAddr: testServers.Consul, RefreshToken: secret.New("rt-0"), Vault: v, Nomad: n, Consul: c}
}

func TestChainSteps(t *testing.T) {
	type check func(t *testing.T, e *env, before, after *store.Record)
	tests := []struct {
		name      string
		kinds     []store.Kind
		prepare   func(e *env, r *store.Record)
		wantCalls []string // Vault calls, in order (mints sorted)
		wantSSO   int      // refresh grants asked for
		wantSteps []string
		wantErr   error
		check     check
	}{
		{
			name:  "1 cached token valid: no call",
			kinds: []store.Kind{store.Nomad},
		},
		{
			name:  "2 nomad lease renewed",
			kinds: []store.Kind{store.Nomad},
			prepare: func(e *env, r *store.Record) {
				e.clk.add(58 * time.Minute)
				e.vault.RenewSelf(context.Background(), r.Vault)
				r.Vault.ExpiresAt = e.clk.now().Add(time.Hour)
				e.vault.calls = nil
			},
			wantCalls: []string{"renew-lease nomad/creds/ci/2"},
			wantSteps: []string{"renewed nomad lease"},
			check: func(t *testing.T, e *env, before, after *store.Record) {
				if !after.Nomad.Secret.Equal(before.Nomad.Secret) || !after.Nomad.ExpiresAt.After(before.Nomad.ExpiresAt) {
					t.Errorf("nomad token not renewed in place: %+v", after.Nomad)
				}
			},
		},
		{
			name:  "2 then 3: vault token renewed first, then nomad lease",
			kinds: []store.Kind{store.Nomad},
			prepare: func(e *env, r *store.Record) {
				e.clk.add(58 * time.Minute)
			},
			wantCalls: []string{"renew-self", "renew-lease nomad/creds/ci/2"},
			wantSteps: []string{"renewed vault token", "renewed nomad lease"},
		},
		{
			name:  "3 lease expired: re-mint and revoke nothing live",
			kinds: []store.Kind{store.Consul},
			prepare: func(e *env, r *store.Record) {
				r.Vault.ExpiresAt = r.Vault.ExpiresAt.Add(10 * time.Hour) // pretend the vault token lives on
				e.vault.tokens[r.Vault.Secret.Reveal()].exp = r.Vault.ExpiresAt
				e.vault.leases[r.Consul.LeaseID].exp = e.clk.now()
				r.Consul.ExpiresAt = e.clk.now()
			},
			wantCalls: []string{"mint consul"},
			wantSteps: []string{"minted consul token"},
		},
		{
			name:  "3 lease at its max TTL: re-mint, old lease revoked",
			kinds: []store.Kind{store.Nomad},
			prepare: func(e *env, r *store.Record) {
				r.Nomad.ExpiresAt = e.clk.now().Add(time.Minute)
				r.Nomad.MaxExpiresAt = e.clk.now().Add(2 * time.Minute)
			},
			wantCalls: []string{"mint nomad", "revoke-lease nomad/creds/ci/2"},
			wantSteps: []string{"minted nomad token", "revoked replaced nomad lease"},
			check: func(t *testing.T, e *env, before, after *store.Record) {
				if e.vault.leaseLive(before.Nomad.LeaseID) {
					t.Error("replaced nomad lease still live")
				}
				if !e.vault.leaseLive(after.Nomad.LeaseID) || after.Consul != before.Consul && !after.Consul.Secret.Equal(before.Consul.Secret) {
					t.Error("new nomad lease not live, or consul touched")
				}
			},
		},
		{
			name:      "4 vault token expired: refresh, login, both children minted",
			kinds:     []store.Kind{store.Nomad},
			prepare:   func(e *env, r *store.Record) { e.clk.add(61 * time.Minute) },
			wantCalls: []string{"login", "mint consul", "mint nomad"},
			wantSSO:   1,
			wantSteps: []string{"refreshed SSO session", "logged in to vault", "minted nomad token", "minted consul token"},
			check: func(t *testing.T, e *env, before, after *store.Record) {
				if after.RefreshToken.Reveal() != "rt-1" {
					t.Errorf("rotated refresh token not kept: %v", after.RefreshToken.Equal(before.RefreshToken))
				}
				if !e.vault.leaseLive(after.Nomad.LeaseID) || !e.vault.leaseLive(after.Consul.LeaseID) {
					t.Error("new leases not live")
				}
			},
		},
		{
			name:  "4 vault token at max TTL: old token revoked with its leases",
			kinds: []store.Kind{store.Vault},
			prepare: func(e *env, r *store.Record) {
				r.Vault.MaxExpiresAt = e.clk.now().Add(time.Minute)
				r.Vault.ExpiresAt = e.clk.now().Add(time.Minute)
			},
			wantCalls: []string{"login", "revoke-self", "mint consul", "mint nomad"},
			wantSSO:   1,
			wantSteps: []string{"refreshed SSO session", "logged in to vault", "revoked replaced vault token", "minted nomad token", "minted consul token"},
			check: func(t *testing.T, e *env, before, after *store.Record) {
				if e.vault.live(before.Vault.Secret) || e.vault.leaseLive(before.Nomad.LeaseID) {
					t.Error("old vault token or its lease still live")
				}
			},
		},
		{
			name:  "vault token revoked at the server: login again, once",
			kinds: []store.Kind{store.Nomad},
			prepare: func(e *env, r *store.Record) {
				e.vault.RevokeSelf(context.Background(), r.Vault.Secret)
				e.vault.calls = nil
				r.Nomad.ExpiresAt = e.clk.now() // needs a new one
			},
			wantCalls: []string{"mint nomad", "renew-self", "login", "revoke-self", "mint consul", "mint nomad"},
			wantSSO:   1,
			wantSteps: []string{"refreshed SSO session", "logged in to vault", "minted nomad token", "minted consul token"},
		},
		{
			name:      "5 refresh refused: login needed",
			kinds:     []store.Kind{store.Nomad},
			prepare:   func(e *env, r *store.Record) { e.clk.add(5 * time.Hour); e.sso.refused = true },
			wantErr:   ErrLoginNeeded,
			wantCalls: nil, // the Vault token is past its max TTL: nothing to try
			wantSSO:   1,
		},
		{
			name:    "5 no refresh token: login needed",
			kinds:   []store.Kind{store.Vault},
			prepare: func(e *env, r *store.Record) { e.clk.add(5 * time.Hour); r.RefreshToken = secret.String{} },
			wantErr: ErrLoginNeeded,
			// No refresh token: neither the SSO nor Vault is asked.
			wantCalls: nil,
			wantSSO:   0,
		},
		{
			name:      "vault down: an error, not login needed",
			kinds:     []store.Kind{store.Nomad},
			prepare:   func(e *env, r *store.Record) { e.clk.add(58 * time.Minute); e.vault.down = true },
			wantCalls: []string{"renew-self"}, // not retried, no mint with a token it could not renew
			wantSSO:   0,                      // Vault's being down is no reason to use the refresh token
			wantErr:   errDown,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, rec := setup(t)
			if tc.prepare != nil {
				tc.prepare(e, rec)
			}
			before := rec.Clone()
			out, res, err := e.chain.Run(context.Background(), rec, tc.kinds)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if errors.Is(err, ErrLoginNeeded) && res.Changed {
					t.Errorf("login needed, yet the record changed: %v", res.Steps)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantCalls, sortedCalls(e.vault.calls)); diff != "" {
				t.Errorf("vault calls (-want +got):\n%s", diff)
			}
			if e.sso.calls != tc.wantSSO {
				t.Errorf("refresh grants asked for: %d, want %d", e.sso.calls, tc.wantSSO)
			}
			if diff := cmp.Diff(tc.wantSteps, res.Steps); diff != "" && tc.wantErr == nil {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			if cmp.Diff(before, rec, cmp.Comparer(func(a, b secret.String) bool { return a.Equal(b) })) != "" {
				t.Error("Run changed its input record")
			}
			if tc.wantErr == nil {
				if !e.chain.Fresh(out, tc.kinds) {
					t.Errorf("result not fresh: %+v", out)
				}
				for _, k := range tc.kinds {
					if k != store.Vault && !e.vault.leaseLive(out.Token(k).LeaseID) {
						t.Errorf("%s token in the result is dead on the server", k)
					}
				}
			}
			if tc.check != nil {
				tc.check(t, e, before, out)
			}
		})
	}
}

// sortedCalls orders the parallel part (mints) so the comparison is stable.
func sortedCalls(c []string) []string {
	if c == nil {
		return nil
	}
	out := append([]string(nil), c...)
	// mint calls run in parallel: sort each run of consecutive mints.
	for i := 0; i < len(out); i++ {
		j := i
		for j < len(out) && len(out[j]) > 4 && out[j][:4] == "mint" {
			j++
		}
		sortStrings(out[i:j])
		if j > i {
			i = j - 1
		}
	}
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestChainMintFailureAfterReloginKeepsRotatedRefreshToken(t *testing.T) {
	e, rec := setup(t)
	e.clk.add(2 * time.Hour)
	e.vault.mintFail = denied("/v1/nomad/creds/ci")
	out, res, err := e.chain.Run(context.Background(), rec, []store.Kind{store.Nomad})
	if err == nil {
		t.Fatal("no error")
	}
	if !res.Changed || out.RefreshToken.Reveal() != "rt-1" {
		t.Fatalf("rotated refresh token lost: changed=%v", res.Changed)
	}
	if out.Nomad != nil || out.Consul != nil {
		t.Error("tokens of the old vault token kept")
	}
	// One refresh, one login, each child tried once (not again after the
	// refusal: the new Vault token is not the one refused).
	if diff := cmp.Diff([]string{"login", "mint consul", "mint nomad"}, sortedCalls(e.vault.calls)); diff != "" {
		t.Errorf("vault calls (-want +got):\n%s", diff)
	}
	if e.sso.calls != 1 {
		t.Errorf("refresh grants asked for: %d, want 1", e.sso.calls)
	}
}

const (
	testIssuer = "https://sso.example"
	testClient = "alilogin"
)

// memStore is a Store in memory that counts writes.
type memStore struct {
	mu   sync.Mutex
	recs map[string]*store.Record
	puts int
}

func (m *memStore) Delete(p string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.recs[p]; !ok {
		return store.ErrNotFound
	}
	delete(m.recs, p)
	return nil
}

func (m *memStore) Get(p string) (*store.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[p]
	if !ok {
		return nil, store.ErrNotFound
	}
	return r.Clone(), nil
}

func (m *memStore) Put(r *store.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.puts++
	m.recs[r.Profile] = r.Clone()
	return nil
}

func TestEnsureConcurrentOneRefresh(t *testing.T) {
	e, rec := setup(t)
	e.clk.add(2 * time.Hour) // everything expired
	ms := &memStore{recs: map[string]*store.Record{"ci": rec}}
	en := &Ensurer{Chain: e.chain, Store: ms, LockDir: t.TempDir()}
	var wg sync.WaitGroup
	got := make([]secret.String, 50)
	errs := make([]error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _, err := en.Ensure(context.Background(), "ci", []store.Kind{store.Nomad})
			errs[i] = err
			if r != nil && r.Nomad != nil {
				got[i] = r.Nomad.Secret
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if !got[i].Equal(got[0]) {
			t.Fatalf("call %d got another token", i)
		}
	}
	if e.sso.n != 1 || ms.puts != 1 {
		t.Errorf("refreshes = %d, puts = %d; want 1, 1", e.sso.n, ms.puts)
	}
}

func TestEnsureErrors(t *testing.T) {
	e, _ := setup(t)
	ms := &memStore{recs: map[string]*store.Record{}}
	en := &Ensurer{Chain: e.chain, Store: ms, LockDir: t.TempDir()}
	if _, _, err := en.Ensure(context.Background(), "nope", []store.Kind{store.Nomad}); !errors.Is(err, ErrLoginNeeded) || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing profile: %v", err)
	}
	if e.vault.calls != nil || e.sso.calls != 0 || ms.puts != 0 {
		t.Errorf("missing profile: vault calls %v, refresh grants %d, puts %d; want none", e.vault.calls, e.sso.calls, ms.puts)
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// TestChainCapsLeasesToVaultToken: a lease Vault gives a longer TTL than
// the Vault token (the nomad engine's 768h default) is stored with the
// Vault token's expiry, when minted and when renewed.
func TestChainCapsLeasesToVaultToken(t *testing.T) {
	e, rec := setup(t)
	e.vault.leaseTTL = 768 * time.Hour
	rec.Nomad.ExpiresAt = e.clk.now() // re-mint
	out, _, err := e.chain.Run(context.Background(), rec, []store.Kind{store.Nomad})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Nomad.ExpiresAt.Equal(out.Vault.ExpiresAt) {
		t.Errorf("minted: nomad expires %s, vault %s", out.Nomad.ExpiresAt, out.Vault.ExpiresAt)
	}

	// Near the Vault token's expiry both are renewed; the lease again
	// only as far as the Vault token.
	e.clk.add(58 * time.Minute)
	out, res, err := e.chain.Run(context.Background(), out, []store.Kind{store.Nomad})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"renewed vault token", "renewed nomad lease"}, res.Steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if !out.Nomad.ExpiresAt.Equal(out.Vault.ExpiresAt) {
		t.Errorf("renewed: nomad expires %s, vault %s", out.Nomad.ExpiresAt, out.Vault.ExpiresAt)
	}
}

// fakeLogin is step 4's fresh login (Loginer) on the fake Vault, as
// internal/session's does it: the Vault login, the replaced token
// revoked, a certificate signed with the new token for a record that has
// one (with the chain's Cert, when set), the mints in parallel, capped
// by the new token.
type fakeLogin struct {
	vault *fakeVault
	chain *Chain
}

func (f *fakeLogin) FreshLogin(ctx context.Context, rec *store.Record, id secret.String, kinds []store.Kind) (*Result, []error, error) {
	rep := &Result{}
	vt, err := f.vault.Login(ctx, id, rec.Profile, rec.Roles)
	if err != nil {
		return rep, nil, err
	}
	rep.Steps = append(rep.Steps, "logged in to vault")
	if old := rec.Vault; old.ValidFor(f.vault.now(), 0) && !old.Secret.Equal(vt.Secret) {
		if err := f.vault.RevokeSelf(ctx, old.Secret); err == nil {
			rep.Steps = append(rep.Steps, "revoked replaced vault token")
		}
	}
	rec.Vault = vt
	var errs []error
	if f.chain.Cert != nil && rec.ClientCert != nil {
		if n, err := f.chain.Cert.Sign(ctx, vt.Secret, rec); err != nil {
			errs = append(errs, fmt.Errorf("could not renew the client certificate: %w", err))
		} else {
			rec.CertDirs = rec.CertFileDirs()
			rec.ClientCert = n
			rec.AddCertDir(n.Dir)
			rep.Steps = append(rep.Steps, "signed a new client certificate (serial "+n.Serial+")")
		}
	}
	toks, merrs := make([]*store.Token, len(kinds)), make([]error, len(kinds))
	var wg sync.WaitGroup
	for i, k := range kinds {
		wg.Go(func() { toks[i], merrs[i] = f.vault.Mint(ctx, vt.Secret, k, rec.Profile) })
	}
	wg.Wait()
	for i, k := range kinds {
		t := toks[i].CappedBy(vt)
		if merrs[i] != nil {
			t = nil
			errs = append(errs, merrs[i])
		} else {
			rep.Steps = append(rep.Steps, fmt.Sprintf("minted %s token", k))
			if old := rec.Token(k); len(t.Policies) == 0 && old != nil {
				t.Policies = old.Policies
			}
		}
		rec.SetToken(k, t)
	}
	return rep, errs, nil
}
