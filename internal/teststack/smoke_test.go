package teststack

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/zalando/go-keyring"
)

var stack *Stack

func TestMain(m *testing.M) { os.Exit(Main(m, Options{}, &stack)) }

// claims decodes a JWT's payload without verifying it (the servers verify).
func claims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// browserLogin signs alice in with Chromium through authorization code +
// PKCE, ending at a loopback callback, and returns the tokens.
func browserLogin(t *testing.T, ctx context.Context, username, password string) *Tokens {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", l.Addr().(*net.TCPAddr).Port)
	codes := make(chan url.Values, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case codes <- r.URL.Query():
		default:
		}
		fmt.Fprint(w, "<!doctype html><p>Signed in. Return to the terminal.</p>")
	})}
	go srv.Serve(l)
	defer srv.Close()

	verifier := randomHex(32)
	sum := sha256.Sum256([]byte(verifier))
	state := randomHex(8)
	q := url.Values{
		"client_id": {stack.Hydra.ClientID}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {"openid profile email offline_access offline"}, "state": {state}, "nonce": {randomHex(8)},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	b, err := NewBrowser()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	text, err := b.Login(ctx, stack.Hydra.IssuerURL+"oauth2/auth?"+q.Encode(), username, password, redirect)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Signed in") {
		t.Fatalf("callback page: %q", text)
	}
	got := <-codes
	if got.Get("state") != state || got.Get("code") == "" {
		t.Fatalf("callback: %v", got)
	}
	tok, err := stack.Hydra.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")},
		"redirect_uri": {redirect}, "client_id": {stack.Hydra.ClientID}, "code_verifier": {verifier}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSmoke(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack.Hydra.AddUser(User{Username: "alice", Password: "alice-pw", UPN: "alice", Roles: []string{"alice-ci-users"}, Name: "Alice", Email: "alice@example.cern"})
	stack.Hydra.AddUser(User{Username: "bob", Password: "bob-pw", UPN: "bob", Roles: []string{"some-other-egroup"}, Name: "Bob", Email: "bob@example.cern"})

	// Chromium through the real login form.
	tok := browserLogin(t, ctx, "alice", "alice-pw")
	c := claims(t, tok.IDToken)
	if roles, _ := c["cern_roles"].([]any); len(roles) != 1 || roles[0] != "alice-ci-users" {
		t.Fatalf("cern_roles = %v", c["cern_roles"])
	}
	if c["cern_upn"] != "alice" || c["aud"] == nil || tok.RefreshToken == "" {
		t.Fatalf("claims %v, refresh token present: %v", c, tok.RefreshToken != "")
	}

	vault := stack.Vault.Client()
	if _, err := stack.EnableJWT(ctx, "jwt"); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(vault.Do(ctx, "PUT", "/v1/sys/policies/acl/ci", map[string]any{
		"policy": `path "nomad/creds/ci" { capabilities = ["read"] }
path "consul/creds/ci" { capabilities = ["read"] }`}, nil))
	must(vault.Do(ctx, "POST", "/v1/auth/jwt/role/ci", map[string]any{
		"role_type": "jwt", "bound_audiences": []string{stack.Hydra.ClientID}, "user_claim": "cern_upn",
		"groups_claim": "cern_roles", "bound_claims": map[string]any{"cern_roles": []string{"alice-ci-users"}},
		"token_policies": []string{"ci"}, "token_ttl": "10m"}, nil))

	login := func(idToken string) (secret.String, error) {
		var out struct {
			Auth struct {
				ClientToken string   `json:"client_token"`
				Policies    []string `json:"policies"`
			} `json:"auth"`
		}
		err := vault.WithToken(secret.String{}).Do(ctx, "POST", "/v1/auth/jwt/login", map[string]any{"role": "ci", "jwt": idToken}, &out)
		if err == nil && !slices.Contains(out.Auth.Policies, "ci") {
			t.Errorf("policies %v lack ci", out.Auth.Policies)
		}
		return secret.New(out.Auth.ClientToken), err
	}
	aliceVault, err := login(tok.IDToken)
	if err != nil {
		t.Fatalf("alice's Vault login: %v", err)
	}
	bobTok, err := stack.Hydra.Login(ctx, stack.Hydra.ClientID, "bob", "bob-pw")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := login(bobTok.IDToken); err == nil || apiclient.StatusOf(err) < 400 {
		t.Fatalf("bob without the role logged in: %v", err)
	}
	if _, err := stack.Hydra.Login(ctx, stack.Hydra.ClientID, "bob", "wrong"); err == nil {
		t.Fatal("wrong password accepted")
	}

	creds := func(path string) string {
		var out struct {
			Data map[string]any `json:"data"`
		}
		must(vault.WithToken(aliceVault).Do(ctx, "GET", "/v1/"+path, nil, &out))
		for _, k := range []string{"secret_id", "token"} {
			if s, ok := out.Data[k].(string); ok && s != "" {
				return s
			}
		}
		t.Fatalf("%s: no token in %v", path, out.Data)
		return ""
	}

	t.Run("nomad", func(t *testing.T) {
		n := stack.Nomad.Client()
		must(n.Do(ctx, "POST", "/v1/acl/policy/read-jobs", map[string]any{"Name": "read-jobs",
			"Rules": `namespace "default" { policy = "read" }`}, nil))
		must(stack.EnableNomadEngine(ctx, "nomad"))
		must(vault.Do(ctx, "POST", "/v1/nomad/role/ci", map[string]any{"policies": "read-jobs", "type": "client"}, nil))
		user := n.WithToken(secret.New(creds("nomad/creds/ci")))
		if err := user.Do(ctx, "GET", "/v1/jobs", nil, nil); err != nil {
			t.Errorf("reading jobs with the minted token: %v", err)
		}
		var self struct{ Policies []string }
		must(user.Do(ctx, "GET", "/v1/acl/token/self", nil, &self))
		if !slices.Equal(self.Policies, []string{"read-jobs"}) {
			t.Errorf("token policies = %v", self.Policies)
		}
		job := map[string]any{"Job": map[string]any{"ID": "smoke", "Name": "smoke", "Type": "batch", "Datacenters": []string{"dc1"},
			"TaskGroups": []any{map[string]any{"Name": "g", "Tasks": []any{map[string]any{"Name": "t", "Driver": "raw_exec", "Config": map[string]any{"command": "/bin/true"}}}}}}}
		if err := user.Do(ctx, "POST", "/v1/jobs", job, nil); apiclient.StatusOf(err) != 403 {
			t.Errorf("submitting a job with a read-only token: %v, want 403", err)
		}
	})

	t.Run("consul", func(t *testing.T) {
		cl := stack.Consul.Client()
		must(cl.Do(ctx, "PUT", "/v1/acl/policy", map[string]any{"Name": "read-kv", "Rules": `key_prefix "" { policy = "read" }`}, nil))
		must(cl.Do(ctx, "PUT", "/v1/kv/smoke/greeting", "hello", nil))
		must(stack.EnableConsulEngine(ctx, "consul"))
		must(vault.Do(ctx, "POST", "/v1/consul/roles/ci", map[string]any{"consul_policies": []string{"read-kv"}}, nil))
		user := cl.WithToken(secret.New(creds("consul/creds/ci")))
		if err := user.Do(ctx, "GET", "/v1/kv/smoke/greeting", nil, nil); err != nil {
			t.Errorf("reading KV with the minted token: %v", err)
		}
		if err := user.Do(ctx, "PUT", "/v1/kv/smoke/greeting", "bye", nil); apiclient.StatusOf(err) != 403 {
			t.Errorf("writing KV with a read-only token: %v, want 403", err)
		}
	})

	t.Run("keyring", func(t *testing.T) {
		const svc, user, value = "alilogin-smoke", "alice", "s3cr3t-value"
		if err := keyring.Set(svc, user, value); err != nil {
			t.Fatalf("Secret Service set: %v", err)
		}
		got, err := keyring.Get(svc, user)
		if err != nil || got != value {
			t.Fatalf("Secret Service get = %q, %v", got, err)
		}
		if err := keyring.Delete(svc, user); err != nil {
			t.Fatal(err)
		}
		if _, err := keyring.Get(svc, user); err != keyring.ErrNotFound {
			t.Fatalf("after delete: %v", err)
		}
	})
}
