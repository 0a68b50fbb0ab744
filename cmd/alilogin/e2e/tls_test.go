package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
)

// TestClientCertVault: ALICE's Vault requires client certificates.
func TestClientCertVault(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	v, err := stack.StartVault(ctx, teststack.VaultOptions{ClientCertTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	const profile = "tls-ci"
	if err := stack.SetupProfile(ctx, v, teststack.ProfileSpec{Name: profile, Roles: []string{"tls-users"}, NomadRules: readJobs, ConsulRules: readKV}); err != nil {
		t.Fatal(err)
	}
	name, pw := newUserAccount("tls-users")
	tlsUser := func(t *testing.T) *user {
		u := newUser(t)
		u.env["VAULT_ADDR"] = v.TLSAddr
		u.env["VAULT_CACERT"] = v.TLS.CA
		return u
	}

	t.Run("with the client certificate", func(t *testing.T) {
		u := tlsUser(t)
		u.env["VAULT_CLIENT_CERT"] = v.TLS.ClientCert
		u.env["VAULT_CLIENT_KEY"] = v.TLS.ClientKey
		p := loginOK(t, ctx, u, name, pw, "login", "--profile", profile)
		st, _ := store.Open("", u.getenv, nil)
		rec, err := st.Get(profile)
		if err != nil || rec.Vault == nil || rec.Nomad == nil || rec.Consul == nil {
			t.Fatalf("record %+v, %v", rec, err)
		}
		noLeaks(t, p, rec.Vault.Secret, rec.Nomad.Secret, rec.Consul.Secret, rec.RefreshToken)
		_ = st.Delete(profile)
	})
	for _, tc := range []struct {
		name      string
		cert, key string
	}{
		{"without a client certificate", "", ""},
		{"with a certificate of another CA", v.TLS.OtherClientCert, v.TLS.OtherClientKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := tlsUser(t)
			if tc.cert != "" {
				u.env["VAULT_CLIENT_CERT"] = tc.cert
				u.env["VAULT_CLIENT_KEY"] = tc.key
			}
			p := u.run(t, "login", "--no-browser", "--listen", "127.0.0.1:0", "--profile", profile)
			if p.code() != 1 {
				t.Fatalf("exit %d, want 1; stderr:\n%s", p.code(), p.stderr.String())
			}
			t.Logf("stderr:\n%s", p.stderr.String())
			if want := "Vault at " + v.TLSAddr + " requires a client certificate"; !strings.Contains(p.stderr.String(), want) {
				t.Errorf("stderr lacks %q:\n%s", want, p.stderr.String())
			}
			notStored(t, u, profile)
		})
	}
}
