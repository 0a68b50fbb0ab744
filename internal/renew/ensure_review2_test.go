package renew

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// TestReview2EnsureReplacedRecordIsBound: while a renewal runs under the
// lock, a lockless writer (an older alilogin, which the docs say Ensure
// guards against) replaces the record with a login made elsewhere: an
// older record with no Vault address, or one made at another Vault.
// Ensure notices the replacement and, when the new record is fresh,
// returns it as is without Bound: env/exec/token then hand out a Vault
// token that was not issued by the configured Vault (or whose Vault is
// unknown), which Bound refuses everywhere else (exit 4).
func TestReview2EnsureReplacedRecordIsBound(t *testing.T) {
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

// TestReview2NoNomadConfiguredMintsNoNomadToken: with no Nomad address
// configured (Servers.Nomad == ""), a login that holds no Nomad token (and
// so records no Nomad address) is "bound" for Nomad ("" == ""), and the
// chain mints a Nomad token for `token/env/exec --for nomad`. That token
// belongs to no configured Nomad origin: exec/env export NOMAD_TOKEN
// without NOMAD_ADDR, and the nomad CLI then sends it in clear to its
// default http://127.0.0.1:4646, which any local user of a shared machine
// can listen on when no agent runs there. A Nomad (or Consul) token must
// not be handed out, nor minted, without a configured address.
func TestReview2NoNomadConfiguredMintsNoNomadToken(t *testing.T) {
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
