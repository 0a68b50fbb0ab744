package e2e

// End-to-end tests of the transport rules on the real Vault: a hostile
// front at VAULT_ADDR redirects every request to the real Vault on another
// port (through a recording forwarder, so the test sees what would have
// reached it). alilogin must fail with an error naming both addresses,
// and nothing (no token header, no JWT login body) may arrive through the
// redirect.

import (
	"context"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

// redirectFront is a hostile VAULT_ADDR: it redirects to a recording
// forwarder in front of the real Vault.
type redirectFront struct {
	name  string
	front *hostile.Server
	fwd   *hostile.Server // what reached the real Vault through the redirect
}

// redirectFronts returns the two hostile fronts: 307 to another port, and
// 308 from https to plain http.
func redirectFronts(t *testing.T) []redirectFront {
	t.Helper()
	var l []redirectFront
	for _, tc := range []struct {
		name string
		code int
		tls  bool
	}{{"307 to another port", http.StatusTemporaryRedirect, false}, {"308 from https to http", http.StatusPermanentRedirect, true}} {
		fwd, err := hostile.NewForward(stack.Vault.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(fwd.Close)
		var front *hostile.Server
		if tc.tls {
			front = hostile.NewTLSRedirect(tc.code, fwd.URL)
		} else {
			front = hostile.NewRedirect(tc.code, fwd.URL)
		}
		t.Cleanup(front.Close)
		l = append(l, redirectFront{tc.name, front, fwd})
	}
	return l
}

// use points u at the front.
func (f redirectFront) use(t *testing.T, u *user) {
	t.Helper()
	u.env["VAULT_ADDR"] = f.front.URL
	delete(u.env, "VAULT_CACERT")
	if f.front.TLS != nil {
		p := filepath.Join(t.TempDir(), "front-ca.pem")
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.front.Certificate().Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		u.env["VAULT_CACERT"] = p
	}
}

// check fails unless p failed naming both addresses without showing
// secrets, the front got the request, and the real Vault got nothing
// through the redirect.
func (f redirectFront) check(t *testing.T, p *proc, secrets ...secret.String) {
	t.Helper()
	t.Logf("exit %d, stderr:\n%s", p.code(), p.stderr.String())
	if p.code() == 0 {
		t.Errorf("exit 0 through a redirect to another origin; stderr:\n%s", p.stderr.String())
	}
	for _, s := range []string{testutil.Origin(t, f.front.URL), testutil.Origin(t, f.fwd.URL), "refused a redirect"} {
		if !strings.Contains(p.stderr.String(), s) {
			t.Errorf("stderr does not name %s:\n%s", s, p.stderr.String())
		}
	}
	if len(f.front.Requests()) == 0 {
		t.Error("the front got no request: the test proves nothing")
	}
	for _, r := range f.fwd.Requests() {
		t.Errorf("the real Vault got %s %s through the redirect (token header set: %v, body %d bytes)",
			r.Method, r.Path, r.Header.Get("X-Vault-Token") != "", len(r.Body))
	}
	noLeaks(t, p, secrets...)
}

// TestVaultRedirectElsewhere: renewal (token header), logout (revoke-self)
// and the Vault login of the refresh step (JWT body) all refuse a redirect
// to another origin, and the real Vault token survives a logout whose
// revocation would only have reached Vault through the redirect.
func TestVaultRedirectElsewhere(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	profile := sessionProfile(t, ctx, "1h", teststack.Mounts{}, "redirect-users")
	for _, f := range redirectFronts(t) {
		t.Run(f.name, func(t *testing.T) {
			// A real session, made through the real Vault.
			u := sessionUser(t, profile, teststack.Mounts{})
			seed(t, ctx, u, profile, "redirect-users")
			u.ok(t, "token", "--for", "vault")
			rec := mustRecord(t, u, profile)
			t.Cleanup(func() {
				_ = stack.Vault.Client().Do(context.Background(), "POST", "/v1/auth/token/revoke", map[string]string{"token": rec.Vault.Secret.Reveal()}, nil)
			})
			// As if the login had been made through the front: the
			// record's Vault is then the front (a login's tokens never go
			// to another Vault than its own; TestVaultBinding).
			f.use(t, u)
			// Due for renewal: a minute left, under a --min-ttl the
			// profile's 1h can give (a longer one is capped).
			due := u.bound(t, rec)
			due.Vault.ExpiresAt = time.Now().Add(time.Minute)
			putRecord(t, u, due)

			// Renewal: renew-self with the token header.
			p := u.run(t, "token", "--for", "vault", "--min-ttl", "30m")
			f.check(t, p, rec.Vault.Secret, rec.RefreshToken)
			if got := f.front.Requests(); len(got) > 0 && got[0].Header.Get("X-Vault-Token") == "" {
				t.Errorf("the front got %s %s without the token: the renewal was not tried", got[0].Method, got[0].Path)
			}

			// Logout: revoke-self would go through the redirect.
			p = u.run(t, "logout")
			f.check(t, p, rec.Vault.Secret, rec.RefreshToken)
			if err := stack.Vault.Client().WithToken(rec.Vault.Secret).Do(ctx, "GET", "/v1/auth/token/lookup-self", nil, nil); err != nil {
				t.Errorf("the real Vault no longer knows the token, so the revocation reached it: %v", err)
			}
		})
	}
	// The Vault login of the refresh step: the JWT login body would go
	// through the redirect.
	for _, f := range redirectFronts(t) {
		t.Run(f.name+", jwt login", func(t *testing.T) {
			u := sessionUser(t, profile, teststack.Mounts{})
			f.use(t, u)
			seed(t, ctx, u, profile, "redirect-users")
			p := u.run(t, "token", "--for", "vault")
			f.check(t, p)
			var sawLogin bool
			for _, r := range f.front.Requests() {
				sawLogin = sawLogin || (strings.HasSuffix(r.Path, "/login") && strings.Contains(string(r.Body), `"jwt"`))
			}
			if !sawLogin {
				t.Errorf("the front got no JWT login: the test proves nothing; it got %d requests", len(f.front.Requests()))
			}
		})
	}
}
