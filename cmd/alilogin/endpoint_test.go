package main

// Review 9a, finding 2: the refresh token must not follow a token
// endpoint of today's discovery document on another origin.

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/testutil"
)

// TestRefreshTokenNotSentToChangedTokenEndpoint: same issuer, same
// client id (so the issue-9 binding passes), but the issuer's discovery
// document, fetched again at every refresh, now names a token endpoint on
// another origin (a tampered copy on a caching proxy or CDN, a takeover of
// one virtual host of the SSO, a misconfigured backchannel URL). Before
// the fix, `alilogin token` sent the stored refresh token there, where it
// can be redeemed at the real SSO. Now the SSO client refuses a document
// whose endpoints are not on the issuer's origin. Trust rule: "No
// redirect, no changed configuration and no discovery document moves a
// secret elsewhere."
func TestRefreshTokenNotSentToChangedTokenEndpoint(t *testing.T) {
	elsewhere := hostile.NewServer(hostile.ErrorBody(http.StatusBadRequest, "application/json", `{"error":"invalid_grant"}`))
	t.Cleanup(elsewhere.Close)
	var moved atomic.Bool
	p := hostile.NewOIDCProvider(hostile.OIDCOptions{Claims: map[string]any{"cern_upn": "alice", "cern_roles": []string{"alice-ci"}},
		Discovery: func(doc map[string]any) {
			if moved.Load() {
				doc["token_endpoint"] = elsewhere.URL + "/token"
			}
		}})
	t.Cleanup(p.Close)
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/login") {
			_, _ = w.Write([]byte(`{"auth":{"client_token":"hvs.vault-token","accessor":"acc","lease_duration":3600,"renewable":true,"policies":["default"]}}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(vault.Close)

	env := testutil.Home(t, map[string]string{"ALILOGIN_CLIENT_ID": "alilogin", "ALILOGIN_ISSUER": p.Issuer, "VAULT_ADDR": vault.URL})
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stderr := &urlFollower{}
	if code := run(ctx, []string{"login", "--profile", "ci", "--no-browser", "--listen", "127.0.0.1:0", "--timeout", "10s"},
		&cmdEnv{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: stderr, Getenv: getenv}); code != 0 {
		t.Fatalf("login: exit %d\n%s", code, stderr.String())
	}
	st := openFileStore(t, env)
	rec, err := st.Get("ci")
	if err != nil {
		t.Fatal(err)
	}
	rt := rec.RefreshToken.Reveal()
	if rt == "" {
		t.Fatal("no refresh token stored")
	}
	// The Vault token has expired: `token` goes to step 4, the refresh.
	rec.Vault.ExpiresAt = time.Now().Add(-time.Minute)
	if err := st.Put(rec); err != nil {
		t.Fatal(err)
	}
	moved.Store(true)
	var out, errb bytes.Buffer
	code := run(ctx, []string{"token", "--for", "vault", "--profile", "ci"}, &cmdEnv{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: getenv})
	t.Logf("token: exit %d, stderr %s", code, errb.String())
	if code == 0 || !strings.Contains(errb.String(), "token_endpoint") || !strings.Contains(errb.String(), p.Issuer) {
		t.Errorf("token: exit %d, want an error naming the token endpoint and the issuer; stderr %s", code, errb.String())
	}
	for _, r := range elsewhere.Requests() {
		if strings.Contains(string(r.Body), rt) {
			t.Errorf("the refresh token of the login went to %s%s, a token endpoint the login was not made with", elsewhere.URL, r.Path)
		}
	}
}
