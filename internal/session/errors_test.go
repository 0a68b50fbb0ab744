package session

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/errprefix"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// deadAddr is the address of a port nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	return addr
}

// TestErrorsSayEachStepOnce: the errors and warnings of the renewal
// chain and of logout, made from the real adapters (internal/issue,
// internal/clientcert) against a Vault that is unreachable, drops the
// connection or fails, say each failed step once: no "could not renew
// the Vault token: could not renew the Vault token: ...", where the
// chain wrapped the adapter's error with the words the adapter had
// already said.
func TestErrorsSayEachStepOnce(t *testing.T) {
	issuer := "https://" + strings.TrimPrefix(deadAddr(t), "http://") // nothing there: the refresh token is not revoked
	drop := func(w http.ResponseWriter) {
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			c.Close()
		}
	}
	fail := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"errors":["internal error"]}`))
	}
	creds := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"lease_id":"nomad/creds/ci/new","lease_duration":3600,"renewable":true,"data":{"secret_id":"0b7c9e4e-7d1a-4f2e-9c55-1f1f0e9d2a10","accessor_id":"acc-new"}}`))
	}
	for _, c := range []struct {
		name string
		// vault answers; nil: no Vault at the address.
		vault func(w http.ResponseWriter, r *http.Request)
		// record changes the record; logout: log out instead of Ensure.
		record func(r *store.Record, now time.Time)
		kinds  []store.Kind
		logout bool
	}{
		{name: "renewing the Vault token, Vault unreachable", kinds: []store.Kind{store.Vault},
			record: func(r *store.Record, now time.Time) { r.Vault.ExpiresAt = now.Add(time.Minute) }},
		{name: "renewing a lease, the connection dropped", kinds: []store.Kind{store.Nomad},
			vault: func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v1/sys/leases/renew" {
					drop(w)
					return
				}
				w.WriteHeader(http.StatusNotFound)
			},
			record: func(r *store.Record, now time.Time) { r.Nomad.ExpiresAt = now.Add(time.Minute) }},
		{name: "minting, Vault fails", kinds: []store.Kind{store.Nomad},
			vault: func(w http.ResponseWriter, r *http.Request) { fail(w) },
			record: func(r *store.Record, now time.Time) {
				r.Nomad.ExpiresAt, r.Nomad.Renewable = now.Add(time.Minute), false
			}},
		{name: "the replaced lease not revoked", kinds: []store.Kind{store.Nomad},
			vault: func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/creds/ci") {
					creds(w)
					return
				}
				fail(w)
			},
			record: func(r *store.Record, now time.Time) {
				r.Nomad.ExpiresAt, r.Nomad.Renewable = now.Add(time.Minute), false
			}},
		{name: "logging in to Vault again, Vault fails", kinds: []store.Kind{store.Vault},
			vault: func(w http.ResponseWriter, r *http.Request) { fail(w) },
			record: func(r *store.Record, now time.Time) {
				r.Vault.ExpiresAt = now.Add(-time.Minute)
				r.Nomad = nil
			}},
		{name: "logout, Vault unreachable", logout: true},
		{name: "logout, Vault fails", logout: true, vault: func(w http.ResponseWriter, r *http.Request) { fail(w) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := deadAddr(t)
			if c.vault != nil {
				s := httptest.NewServer(http.HandlerFunc(c.vault))
				defer s.Close()
				addr = s.URL
			}
			env := testutil.Home(t, nil)
			e, _, stderr := testEnv(env)
			st, err := store.Open("", e.Getenv, nil)
			if err != nil {
				t.Fatal(err)
			}
			key, _, err := clientcert.NewKey()
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			rec := &store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice", Roles: []string{"ci-users"},
				Issuer: issuer, ClientID: "alilogin", Subject: "alice-sub", VaultAddr: testutil.Canonical(t, addr), NomadAddr: testutil.Canonical(t, addr),
				RefreshToken: secret.New("rt-0"), UpdatedAt: now,
				Vault: &store.Token{Secret: secret.New("hvs.live"), Accessor: "acc", Renewable: true, IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
				Nomad: &store.Token{Secret: secret.New("0b7c9e4e-0000-4f2e-9c55-1f1f0e9d2a10"), Accessor: "nacc", LeaseID: "nomad/creds/ci/old", Renewable: true,
					IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
				ClientCert: &clientcert.Cert{CertPEM: "cert\n", Key: key, Mount: "pki", Serial: "0a:0b", Subject: "CN=alice", NotAfter: now.Add(time.Hour), IssuedAt: now}}
			if c.record != nil {
				c.record(rec, now)
			}
			if err := st.Put(rec); err != nil {
				t.Fatal(err)
			}
			cfg := &config.Config{Vault: config.Server{Addr: addr, Mount: "jwt"}, Nomad: config.Server{Addr: addr, Mount: "nomad"},
				Issuer: issuer, ClientID: "alilogin", Profiles: []config.Profile{{Name: "ci", Roles: []string{"ci-users"}}}}
			var said string
			if c.logout {
				warnings, err := logoutProfile(context.Background(), *e, cfg, st, "ci")
				said = strings.Join(warnings, "\n")
				if err != nil {
					said += "\n" + err.Error()
				}
				if len(warnings) == 0 {
					t.Errorf("logout against a Vault that %s: no warning", c.name)
				}
			} else {
				s := &Session{Env: *e, Config: cfg, Store: st, Profile: "ci"}
				en, err := s.ensurer(context.Background(), renew.DefaultMinTTL, false)
				if err != nil {
					t.Fatal(err)
				}
				en.Chain.SSO = refreshedAs{issuer: issuer, roles: []string{"ci-users"}}
				en.Chain.Cert = nil // the certificate is left to logout here
				_, res, err := en.Ensure(context.Background(), "ci", c.kinds)
				said = strings.Join(res.Warnings, "\n")
				if err != nil {
					said += "\n" + err.Error()
				}
				if said == "" {
					t.Fatalf("no error and no warning")
				}
			}
			said += "\n" + stderr.String()
			if r, ok := errprefix.Repeated(said); ok {
				t.Errorf("a message repeats its own prefix (%s):\n%s", r, said)
			}
		})
	}
}
