package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/oidc"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// refreshedAs is a refresh grant that gives a verified ID token for
// alice with roles.
type refreshedAs struct {
	issuer string
	roles  []string
}

func (r refreshedAs) Refresh(context.Context, secret.String) (*renew.Refreshed, error) {
	return &renew.Refreshed{IDToken: secret.New("eyJ.refreshed.sig"), RefreshToken: secret.New("rt-1"),
		Issuer: r.issuer, Subject: "alice-sub", User: "alice", Roles: r.roles}, nil
}

// TestReloginIsTheFreshLogin: the chain's step 4 (a refresh grant, then
// a Vault login) is the fresh login of `alilogin login` (renew.Login):
// when Vault refuses the login to the profile, both say the same,
// naming the user's SSO roles and the roles the profile requires. The
// chain's re-login used its own call of the Vault login, without the
// user's roles: "Your SSO roles: none." to a user who has some.
func TestReloginIsTheFreshLogin(t *testing.T) {
	var logins atomic.Int32
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/auth/jwt/login" {
			logins.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"errors":["error validating claims: claim \"roles\" does not match any associated bound claim values"]}`))
			return
		}
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"errors":["permission denied"]}`))
	}))
	defer vault.Close()
	const issuer = "https://sso.example"
	roles := []string{"ci-guests", "other"}
	env := testutil.Home(t, nil)
	e, _, _ := testEnv(env)
	st, err := store.Open("", e.Getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{Vault: config.Server{Addr: vault.URL, Mount: "jwt"}, Issuer: issuer, ClientID: "alilogin",
		Profiles: []config.Profile{{Name: "ci", Roles: []string{"ci-users"}}}}
	cl, err := NewClients(cfg)
	if err != nil {
		t.Fatal(err)
	}

	// alilogin login.
	_, loginErr := Login(context.Background(), *e, cfg, st, cl, Fresh{Profile: "ci", IDToken: secret.New("eyJ.fresh.sig"),
		RefreshToken: secret.New("rt-0"), Identity: &oidc.Identity{User: "alice", Roles: roles, Issuer: issuer, Subject: "alice-sub"}})
	if loginErr == nil {
		t.Fatal("login: Vault refused, no error")
	}

	// alilogin token, with the Vault token expired: step 4.
	now := time.Now()
	if err := st.Put(&store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice", Roles: roles,
		Issuer: issuer, ClientID: "alilogin", Subject: "alice-sub", VaultAddr: testutil.Canonical(t, vault.URL),
		RefreshToken: secret.New("rt-0"), UpdatedAt: now.Add(-2 * time.Hour),
		Vault: &store.Token{Secret: secret.New("hvs.old"), Accessor: "acc", IssuedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	s := &Session{Env: *e, Config: cfg, Store: st, Profile: "ci"}
	en, err := s.ensurer(context.Background(), renew.DefaultMinTTL, false)
	if err != nil {
		t.Fatal(err)
	}
	en.Chain.SSO = refreshedAs{issuer: issuer, roles: roles}
	_, _, reloginErr := en.Ensure(context.Background(), "ci", []store.Kind{store.Vault})
	if reloginErr == nil {
		t.Fatal("re-login: Vault refused, no error")
	}

	if n := logins.Load(); n != 2 {
		t.Fatalf("%d Vault logins, want 2 (login, re-login)", n)
	}
	for name, err := range map[string]error{"login": loginErr, "re-login": reloginErr} {
		for _, want := range []string{`Vault refused the login to profile "ci"`, "Your SSO roles: ci-guests, other.", "Profile ci requires one of: ci-users."} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %q not in:\n%v", name, want, err)
			}
		}
	}
}
