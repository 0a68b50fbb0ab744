package renew

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// TestChainRefreshBinding: the refresh token goes only to the issuer and
// client id the login was made with; any other configuration, or a record
// that does not say, is "login needed" without a refresh grant, and the
// message names both issuers.
func TestChainRefreshBinding(t *testing.T) {
	for _, tc := range []struct {
		name             string
		issuer, clientID string // the record's
		cfgIssuer        string
		cfgClient        string
		want             []string // in the message
	}{
		{"configured issuer changed", testIssuer, testClient, "https://evil.example", testClient, []string{testIssuer, "https://evil.example"}},
		{"configured client id changed", testIssuer, testClient, testIssuer, "other-client", []string{testClient, "other-client"}},
		{"record of an earlier version: no client id", testIssuer, "", testIssuer, testClient, []string{"does not say"}},
		{"record without issuer", "", testClient, testIssuer, testClient, []string{"does not say"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, rec := setup(t)
			rec.Issuer, rec.ClientID = tc.issuer, tc.clientID
			e.chain.Issuer, e.chain.ClientID = tc.cfgIssuer, tc.cfgClient
			e.clk.add(2 * time.Hour) // the Vault token has expired: step 4
			_, _, err := e.chain.Run(context.Background(), rec, []store.Kind{store.Nomad})
			var be *BindingError
			if !errors.Is(err, ErrLoginNeeded) || !errors.As(err, &be) {
				t.Fatalf("err = %v, want a BindingError (login needed)", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not name %q", err, w)
				}
			}
			if e.sso.calls != 0 {
				t.Errorf("%d refresh grants were asked for, want none", e.sso.calls)
			}
		})
	}
}

// TestChainSteps1to3NeedNoBinding: a record of an earlier version (no
// client id) keeps working while its Vault token lives: only step 4
// needs the binding.
func TestChainSteps1to3NeedNoBinding(t *testing.T) {
	e, rec := setup(t)
	rec.ClientID = ""
	rec.Nomad.ExpiresAt = e.clk.now() // re-mint with the Vault token
	if _, _, err := e.chain.Run(context.Background(), rec, []store.Kind{store.Nomad}); err != nil {
		t.Fatal(err)
	}
}

// TestEnsureIdentityChanged: a refreshed ID token for another subject (or
// issuer) ends the login: the record is deleted, its Vault token revoked,
// nothing new stored, and a login is needed.
func TestEnsureIdentityChanged(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(e *env, r *store.Record)
	}{
		{"another subject", func(e *env, r *store.Record) { e.sso.subject = "mallory" }},
		{"stored subject empty", func(e *env, r *store.Record) { r.Subject = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, rec := setup(t)
			tc.prepare(e, rec)
			rec.Vault.MaxExpiresAt = e.clk.now().Add(time.Minute) // cannot be renewed: step 4
			rec.Vault.ExpiresAt = e.clk.now().Add(time.Minute)
			ms := &memStore{recs: map[string]*store.Record{"ci": rec}}
			en := &Ensurer{Chain: e.chain, Store: ms, LockDir: t.TempDir()}
			out, res, err := en.Ensure(context.Background(), "ci", []store.Kind{store.Vault})
			var ie *IdentityChangedError
			if !errors.Is(err, ErrLoginNeeded) || !errors.As(err, &ie) || out != nil || !res.Drop {
				t.Fatalf("Ensure = %v, %v (drop %v); want an IdentityChangedError and no record", out, err, res.Drop)
			}
			if _, err := ms.Get("ci"); !errors.Is(err, store.ErrNotFound) || ms.puts != 0 {
				t.Errorf("record after: %v, puts %d; want deleted, never written", err, ms.puts)
			}
			if e.vault.live(rec.Vault.Secret) {
				t.Error("the stored Vault token is still live")
			}
			for _, c := range e.vault.calls {
				if c == "login" {
					t.Error("the foreign ID token was used for a Vault login")
				}
			}
		})
	}
}

// liveTokens counts the fake Vault's live tokens.
func (f *fakeVault) liveTokens() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for s := range f.tokens {
		if f.live(secret.New(s)) {
			n++
		}
	}
	return n
}

// TestEnsureRecordDeletedMeanwhile: a logout that did not take the lock
// (an older alilogin) deletes the record while the
// chain runs: the chain's new Vault token (and with it its leases) is
// revoked, nothing is written back, and a login is needed.
func TestEnsureRecordDeletedMeanwhile(t *testing.T) {
	e, rec := setup(t)
	e.clk.add(2 * time.Hour) // everything expired: step 4
	ms := &memStore{recs: map[string]*store.Record{"ci": rec}}
	e.vault.hook = func(call string) {
		if call == "login" {
			ms.Delete("ci")
		}
	}
	en := &Ensurer{Chain: e.chain, Store: ms, LockDir: t.TempDir()}
	out, _, err := en.Ensure(context.Background(), "ci", []store.Kind{store.Nomad})
	if !errors.Is(err, ErrLoginNeeded) || out != nil {
		t.Fatalf("Ensure = %v, %v; want login needed", out, err)
	}
	if _, err := ms.Get("ci"); !errors.Is(err, store.ErrNotFound) || ms.puts != 0 {
		t.Errorf("record after: %v, puts %d; want still deleted", err, ms.puts)
	}
	if n := e.vault.liveTokens(); n != 0 {
		t.Errorf("%d Vault tokens live, want 0", n)
	}
	for id := range e.vault.leases {
		if e.vault.leaseLive(id) {
			t.Errorf("lease %s live", id)
		}
	}
}

// TestEnsureRecordReplacedMeanwhile: a new login replaced the record while
// the chain ran: the chain's new lease is revoked and the new login is
// kept, not written over.
func TestEnsureRecordReplacedMeanwhile(t *testing.T) {
	e, rec := setup(t)
	rec.Nomad.ExpiresAt = e.clk.now() // re-mint with the Vault token
	ms := &memStore{recs: map[string]*store.Record{"ci": rec}}
	fresh := rec.Clone()
	fresh.Nomad = rec.Consul.Clone()
	fresh.Nomad.Secret = secret.New("nomad-of-the-new-login")
	fresh.UpdatedAt = e.clk.now().Add(time.Second)
	e.vault.hook = func(call string) {
		if call == "mint nomad" {
			ms.recs["ci"] = fresh
		}
	}
	en := &Ensurer{Chain: e.chain, Store: ms, LockDir: t.TempDir()}
	out, _, err := en.Ensure(context.Background(), "ci", []store.Kind{store.Nomad})
	if err != nil || out == nil || !out.Nomad.Secret.Equal(secret.New("nomad-of-the-new-login")) {
		t.Fatalf("Ensure = %+v, %v; want the new login's record", out, err)
	}
	if got, _ := ms.Get("ci"); !got.Nomad.Secret.Equal(secret.New("nomad-of-the-new-login")) || ms.puts != 0 {
		t.Errorf("stored nomad %v, puts %d; want the new login untouched", got.Nomad.Secret, ms.puts)
	}
	for id, l := range e.vault.leases {
		if id != rec.Nomad.LeaseID && id != rec.Consul.LeaseID && !l.revoked {
			t.Errorf("the chain's new lease %s was not revoked", id)
		}
	}
}

// TestEnsureReplacedRecordIsBound: while a renewal runs under the
// lock, a lockless writer (an older alilogin, which the docs say Ensure
// guards against) replaces the record with a login made elsewhere: an
// older record with no Vault address, or one made at another Vault.
// Ensure notices the replacement and, when the new record is fresh,
// returns it as is without Bound: env/exec/token then hand out a Vault
// token that was not issued by the configured Vault (or whose Vault is
// unknown), which Bound refuses everywhere else (exit 4).
func TestEnsureReplacedRecordIsBound(t *testing.T) {
	for _, tc := range []struct {
		name string
		addr string
	}{
		{"record of an earlier version", ""},
		{"made at another Vault", "https://other-vault.example:8200"},
	} {
		for _, when := range []string{"before the put", "after the put"} {
			t.Run(tc.name+"/"+when, func(t *testing.T) {
				e, rec := setup(t)
				e.clk.add(2 * time.Hour) // everything expired: refresh + Vault login
				foreign := &store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice", Issuer: testIssuer, ClientID: testClient,
					Subject: "alice-sub", VaultAddr: tc.addr, UpdatedAt: e.clk.now(),
					Vault: &store.Token{Secret: secret.New("hvs.foreign"), Renewable: true, ExpiresAt: e.clk.now().Add(8 * time.Hour)}}
				replace := func(ms *memStore) { _ = ms.Put(foreign) }
				var st Store
				mem := &memStore{recs: map[string]*store.Record{"ci": rec}}
				if when == "before the put" {
					rs := &racyStore{memStore: mem, at: 2}
					rs.after = func() { replace(mem) }
					st = rs
				} else {
					ps := &putHookStore{memStore: mem}
					ps.after = func() { replace(mem) }
					st = ps
				}
				en := &Ensurer{Chain: e.chain, Store: st, LockDir: t.TempDir()}
				out, _, err := en.Ensure(context.Background(), "ci", []store.Kind{store.Vault})
				if err == nil && out != nil && out.Vault != nil && out.Vault.Secret.Equal(foreign.Vault.Secret) {
					t.Errorf("Ensure handed out the Vault token of a record bound to %q while the configured Vault is %s; want a *ServerBindingError",
						tc.addr, testServers.Vault)
				} else if err != nil && !errors.As(err, new(*ServerBindingError)) && !errors.Is(err, ErrReplaced) {
					t.Logf("err %v", err)
				}
			})
		}
	}
}

// TestNoNomadConfiguredMintsNoNomadToken: with no Nomad address
// configured (Servers.Nomad == ""), a login that holds no Nomad token (and
// so records no Nomad address) is "bound" for Nomad ("" == ""), and the
// chain mints a Nomad token for `token/env/exec --for nomad`. That token
// belongs to no configured Nomad origin: exec/env export NOMAD_TOKEN
// without NOMAD_ADDR, and the nomad CLI then sends it in clear to its
// default http://127.0.0.1:4646, which any local user of a shared machine
// can listen on when no agent runs there. A Nomad (or Consul) token must
// not be handed out, nor minted, without a configured address.
func TestNoNomadConfiguredMintsNoNomadToken(t *testing.T) {
	e, rec := setup(t)
	e.chain.Servers.Nomad = ""
	rec.NomadAddr, rec.Nomad = "", nil
	if err := e.chain.Bound(rec, []store.Kind{store.Nomad}); err == nil {
		out, _, err := e.chain.Run(context.Background(), rec, []store.Kind{store.Nomad})
		if err == nil && out != nil && out.Nomad != nil {
			t.Errorf("a Nomad token was minted and handed out with no Nomad address configured (the record binds it to %q)", out.NomadAddr)
		}
	}
}
