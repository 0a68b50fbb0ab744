package renew

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
)

// TestChainServerBinding: a record made with another Vault (or, for a
// Nomad/Consul token, another Nomad/Consul), or one that does not say
// which Vault, is "login needed" before anything is sent, on the fast
// path too; the message names both addresses.
func TestChainServerBinding(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(e *env, r *store.Record)
		kinds   []Kind
		expire  bool     // run the network steps, not step 1
		want    []string // in the message; nil: no error
	}{
		{"configured Vault changed", func(e *env, r *store.Record) { e.chain.Servers.Vault = "https://test-vault:8200" },
			[]Kind{Vault}, true, []string{testServers.Vault, "https://test-vault:8200"}},
		{"configured Vault changed, cached token", func(e *env, r *store.Record) { e.chain.Servers.Vault = "https://test-vault:8200" },
			[]Kind{Vault}, false, []string{testServers.Vault, "https://test-vault:8200"}},
		{"record of an earlier version", func(e *env, r *store.Record) { r.VaultAddr = "" },
			[]Kind{Vault}, false, []string{"does not say which Vault"}},
		{"configured Nomad changed", func(e *env, r *store.Record) { e.chain.Servers.Nomad = "https://other-nomad:4646" },
			[]Kind{Nomad}, true, []string{testServers.Nomad, "https://other-nomad:4646"}},
		{"Nomad configured, none at login", func(e *env, r *store.Record) { r.NomadAddr = "" },
			[]Kind{Nomad}, false, []string{"Nomad at none"}},
		{"configured Consul changed", func(e *env, r *store.Record) { e.chain.Servers.Consul = "" },
			[]Kind{Consul}, false, []string{testServers.Consul, "is none"}},
		{"renewal touches the Nomad token of a changed Nomad", func(e *env, r *store.Record) { e.chain.Servers.Nomad = "https://other-nomad:4646" },
			[]Kind{Vault}, true, []string{"https://other-nomad:4646"}},
		{"cached Vault token, Nomad changed", func(e *env, r *store.Record) { e.chain.Servers.Nomad = "https://other-nomad:4646" },
			[]Kind{Vault}, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, rec := setup(t)
			tc.prepare(e, rec)
			if tc.expire {
				e.clk.add(2 * time.Hour)
			}
			ms := &memStore{recs: map[string]*store.Record{"ci": rec}}
			en := &Ensurer{Chain: e.chain, Store: ms, LockDir: t.TempDir()}
			got, _, err := en.Ensure(context.Background(), "ci", tc.kinds)
			if tc.want == nil {
				if err != nil || got == nil {
					t.Fatalf("Ensure: %v", err)
				}
				return
			}
			var be *ServerBindingError
			if !errors.Is(err, ErrLoginNeeded) || !errors.As(err, &be) || got != nil {
				t.Fatalf("Ensure = %v, %v; want a ServerBindingError (login needed)", got, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not name %q", err, w)
				}
			}
			if len(e.vault.calls) != 0 || e.sso.calls != 0 {
				t.Errorf("Vault calls %v, refresh grants %d; want none", e.vault.calls, e.sso.calls)
			}
			// Run alone refuses too.
			if _, _, err := e.chain.Run(context.Background(), rec, tc.kinds); !errors.As(err, &be) && tc.expire {
				t.Errorf("Run: %v, want a ServerBindingError", err)
			}
		})
	}
}
