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
		kinds   []store.Kind
		expire  bool     // run the network steps, not step 1
		want    []string // in the message; nil: no error
	}{
		{"configured Vault changed", func(e *env, r *store.Record) { e.chain.Servers.Vault = "https://test-vault:8200" },
			[]store.Kind{store.Vault}, true, []string{testServers.Vault, "https://test-vault:8200"}},
		{"configured Vault changed, cached token", func(e *env, r *store.Record) { e.chain.Servers.Vault = "https://test-vault:8200" },
			[]store.Kind{store.Vault}, false, []string{testServers.Vault, "https://test-vault:8200"}},
		{"record of an earlier version", func(e *env, r *store.Record) { r.VaultAddr = "" },
			[]store.Kind{store.Vault}, false, []string{"does not say which Vault"}},
		{"configured Nomad changed", func(e *env, r *store.Record) { e.chain.Servers.Nomad = "https://other-nomad:4646" },
			[]store.Kind{store.Nomad}, true, []string{testServers.Nomad, "https://other-nomad:4646"}},
		{"Nomad configured, none at login", func(e *env, r *store.Record) { r.NomadAddr = "" },
			[]store.Kind{store.Nomad}, false, []string{"Nomad at none"}},
		{"configured Consul changed", func(e *env, r *store.Record) { e.chain.Servers.Consul = "" },
			[]store.Kind{store.Consul}, false, []string{testServers.Consul, "is none"}},
		{"renewal touches the Nomad token of a changed Nomad", func(e *env, r *store.Record) { e.chain.Servers.Nomad = "https://other-nomad:4646" },
			[]store.Kind{store.Vault}, true, []string{"https://other-nomad:4646"}},
		{"cached Vault token, Nomad changed", func(e *env, r *store.Record) { e.chain.Servers.Nomad = "https://other-nomad:4646" },
			[]store.Kind{store.Vault}, false, nil},
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

// TestBoundRefusesAnotherTrust: a login whose record says how each
// server's certificate was checked is refused (a *ServerBindingError,
// login needed) when the configuration now checks the Vault, or the
// Nomad or Consul of a token asked for, another way; a record of an
// earlier alilogin, without it, is accepted as before.
func TestBoundRefusesAnotherTrust(t *testing.T) {
	srv := Servers{Vault: "https://v:8200", Nomad: "https://n:4646", Consul: "https://c:8501",
		VaultTrust: "ca=sha256:aa", NomadTrust: "ca=system", ConsulTrust: "ca=system server_name=consul"}
	rec := func() *store.Record {
		return &store.Record{Profile: "p", VaultAddr: srv.Vault, NomadAddr: srv.Nomad, ConsulAddr: srv.Consul,
			VaultTrust: srv.VaultTrust, NomadTrust: srv.NomadTrust, ConsulTrust: srv.ConsulTrust}
	}
	for _, tc := range []struct {
		name    string
		change  func(s *Servers, r *store.Record)
		kinds   []store.Kind
		refused string // the server named; "": accepted
	}{
		{"same", func(s *Servers, r *store.Record) {}, []store.Kind{store.Vault, store.Nomad, store.Consul}, ""},
		{"other Vault CA", func(s *Servers, r *store.Record) { s.VaultTrust = "ca=sha256:bb" }, []store.Kind{store.Vault}, "Vault"},
		{"Vault server name", func(s *Servers, r *store.Record) { s.VaultTrust = "ca=sha256:aa server_name=evil.example" }, []store.Kind{store.Vault}, "Vault"},
		{"Vault CA on a Nomad token", func(s *Servers, r *store.Record) { s.VaultTrust = "ca=system" }, []store.Kind{store.Nomad}, "Vault"},
		{"Nomad CA", func(s *Servers, r *store.Record) { s.NomadTrust = "ca=sha256:cc" }, []store.Kind{store.Nomad}, "Nomad"},
		{"Nomad CA, Consul asked", func(s *Servers, r *store.Record) { s.NomadTrust = "ca=sha256:cc" }, []store.Kind{store.Consul}, ""},
		{"Consul server name", func(s *Servers, r *store.Record) { s.ConsulTrust = "ca=system" }, []store.Kind{store.Consul}, "Consul"},
		{"earlier record", func(s *Servers, r *store.Record) {
			r.VaultTrust, r.NomadTrust, r.ConsulTrust = "", "", ""
			s.VaultTrust = "ca=sha256:bb"
		}, []store.Kind{store.Vault, store.Nomad, store.Consul}, ""},
	} {
		s, r := srv, rec()
		tc.change(&s, r)
		err := (&Chain{Servers: s}).Bound(r, tc.kinds)
		var be *ServerBindingError
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.refused != "" && (!errors.As(err, &be) || !be.Trust || be.Server.Title() != tc.refused || !errors.Is(err, ErrLoginNeeded)):
			t.Errorf("%s: %v, want the %s refused for its certificate check", tc.name, err, tc.refused)
		case tc.refused != "" && !strings.Contains(err.Error(), "certificate"):
			t.Errorf("%s: the message does not say why: %v", tc.name, err)
		}
	}
}
