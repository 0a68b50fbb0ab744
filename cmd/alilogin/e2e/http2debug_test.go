package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
)

// TestHTTP2DebugPrintsNoSecret: alilogin run with GODEBUG=http2debug=2
// (Go's HTTP/2 frame log: bodies) or http2debug=1 (headers) against an
// SSO that serves over TLS and offers HTTP/2, as real ones do, through
// a refresh (the chain's step 4: refresh grant, ID token verified, Vault
// login, Nomad and Consul creds): its stderr holds neither the refresh
// token it sent, nor the tokens the SSO answered, nor the Vault token;
// the SSO was spoken to in HTTP/1.1.
func TestHTTP2DebugPrintsNoSecret(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	claims := map[string]any{"cern_upn": "h2-user", "cern_roles": []string{"h2debug-users"}}
	sso, u, mount := hostileSSO(t, ctx, hostile.OIDCOptions{Claims: claims, HTTP2TLS: true})
	profile := "h2-" + mount
	if err := stack.SetupProfile(ctx, nil, teststack.ProfileSpec{Name: profile, Roles: []string{"h2debug-users"}, ClientID: "alilogin",
		NomadRules: readJobs, ConsulRules: readKV, Mounts: teststack.Mounts{JWT: mount}}); err != nil {
		t.Fatal(err)
	}
	u.env["ALILOGIN_STORE"] = "keyring"
	u.env["ALILOGIN_PROFILE"] = profile
	// The start of every ID token the provider signs (its fixed header).
	idTokenHead := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"hostile","typ":"JWT"}`))
	for _, level := range []string{"2", "1"} {
		t.Run("http2debug="+level, func(t *testing.T) {
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			rt := "rt-h2debug-" + hex.EncodeToString(b)
			putRecord(t, u, &store.Record{Version: store.RecordVersion, Profile: profile, User: "h2-user", Issuer: sso.Issuer,
				ClientID: "alilogin", Subject: "hostile-subject", RefreshToken: secret.New(rt), UpdatedAt: time.Now()})
			u.env["GODEBUG"] = "http2debug=" + level
			p := u.ok(t, "token", "--for", "vault", "-v")
			vaultTok := tokenOut(p)
			var refreshed bool
			for _, r := range sso.Requests() {
				if r.Method == "POST" && strings.Contains(string(r.Body), rt) {
					refreshed = true
					if r.Proto != "HTTP/1.1" {
						t.Errorf("the refresh grant went over %s", r.Proto)
					}
				}
			}
			if !refreshed {
				t.Fatalf("no refresh grant reached the SSO; stderr:\n%s", p.stderr.String())
			}
			for what, s := range map[string]string{"the refresh token sent": rt, "the refresh token received": "hostile-refresh-token",
				"the access token": "hostile-access-token", "an ID token": idTokenHead, "the Vault token": vaultTok} {
				if strings.Contains(p.stderr.String(), s) {
					t.Errorf("stderr shows %s:\n%s", what, p.stderr.String())
				}
			}
		})
	}
}
