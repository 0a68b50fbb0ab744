package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/teststack"
)

// Vault's OIDC role flow, driven at the HTTP level as alilogin elevate
// drives it: auth_url (role, loopback redirect_uri, client_nonce) → the
// IdP's authorization endpoint → the loopback callback with code and
// state → Vault's callback (state, code, client_nonce) → a token or a
// refusal. Only Vault decides; the test checks what it decided.

// vaultAnon calls the stack's Vault without a token (auth_url and the
// callback are unauthenticated, as for alilogin elevate).
func vaultAnon(ctx context.Context, method, path string, in any) (map[string]any, int, error) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, stack.Vault.Addr+path, body)
	if err != nil {
		return nil, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	if resp.StatusCode >= 300 {
		var e struct{ Errors []string }
		_ = json.Unmarshal(b, &e)
		return out, resp.StatusCode, fmt.Errorf("vault %s: %d: %s", strings.Split(path, "?")[0], resp.StatusCode, strings.Join(e.Errors, "; "))
	}
	return out, resp.StatusCode, nil
}

// authURL asks Vault for the authorization URL of role on mount.
func authURL(t *testing.T, ctx context.Context, mount, role, redirect, clientNonce string) string {
	t.Helper()
	out, _, err := vaultAnon(ctx, "POST", "/v1/auth/"+mount+"/oidc/auth_url", map[string]any{"role": role, "redirect_uri": redirect, "client_nonce": clientNonce})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := out["data"].(map[string]any)
	u, _ := data["auth_url"].(string)
	if u == "" {
		t.Fatalf("Vault gave no auth_url for role %s and redirect %s: %v", role, redirect, out)
	}
	return u
}

// vaultCallback hands code and state to Vault's callback; it returns the
// token's policies, or Vault's refusal.
func vaultCallback(ctx context.Context, mount string, cb url.Values, clientNonce string) (policies []string, ttl float64, err error) {
	q := url.Values{"state": {cb.Get("state")}, "code": {cb.Get("code")}, "client_nonce": {clientNonce}}
	out, _, err := vaultAnon(ctx, "GET", "/v1/auth/"+mount+"/oidc/callback?"+q.Encode(), nil)
	if err != nil {
		return nil, 0, err
	}
	auth, _ := out["auth"].(map[string]any)
	if auth == nil || auth["client_token"] == "" {
		return nil, 0, fmt.Errorf("no token in Vault's answer: %v", out)
	}
	for _, p := range auth["policies"].([]any) {
		policies = append(policies, p.(string))
	}
	slices.Sort(policies)
	tok, _ := auth["client_token"].(string)
	if err := vaultC.Do(ctx, "POST", "/v1/auth/token/revoke", map[string]any{"token": tok}, nil); err != nil {
		return nil, 0, err
	}
	d, _ := auth["lease_duration"].(float64)
	return policies, d, nil
}

// attendedProfile is ci-admin with the stack's attended tier, as
// policies/ and teststack.AttendedTier declare it.
func attendedCIAdmin() policy.Profile {
	return policy.Profile{Name: "ci-admin", Roles: []string{"alice-ci-admins"}, Attended: policy.Attended{
		VaultPolicies: []string{"ci-secrets-write"}, Window: 10 * time.Minute, MaxAge: 2 * time.Minute, ACR: teststack.StepUpACR}}
}

// configureOIDCMount enables an oidc auth method at mount trusting
// issuer with client id, and writes the OIDC role of p exactly as the
// broker does (plan.OIDCRoleFields). Disabled when the test ends.
func configureOIDCMount(t *testing.T, ctx context.Context, mount, issuer, clientID, clientSecret string, p policy.Profile) {
	t.Helper()
	mustDo(t, vaultC, "POST", "/v1/sys/auth/"+mount, map[string]any{"type": "oidc"}, nil)
	t.Cleanup(func() { _ = vaultC.Do(context.Background(), "DELETE", "/v1/sys/auth/"+mount, nil, nil) })
	mustDo(t, vaultC, "POST", "/v1/auth/"+mount+"/config", map[string]any{"oidc_discovery_url": issuer, "bound_issuer": issuer,
		"oidc_client_id": clientID, "oidc_client_secret": clientSecret}, nil)
	f := plan.OIDCRoleFields(policy.SSO{Issuer: issuer, RolesClaim: "cern_roles", UserClaim: "cern_upn"},
		policy.AttendedSettings{OIDCMount: mount, ClientID: clientID}, p)
	body := map[string]any{}
	for k, v := range f {
		if k != "claim_mappings" { // none: Vault takes a map there
			body[k] = v
		}
	}
	mustDo(t, vaultC, "POST", "/v1/auth/"+mount+"/role/"+p.Name, body, nil)
}

// noFollow is an HTTP client that stops at the first redirect.
var noFollow = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestStaleSignInIsRefusedByVault: Vault's OIDC role trusts an OpenID
// provider that ignores max_age (internal/hostile) and puts in its ID
// token the auth_time the test chooses. With a sign-in an hour old Vault
// gives no token; without auth_time neither; with a fresh one and the
// step-up acr it gives the attended tier's token (so the test can fail),
// and not to the same ID token handed to the mount's JWT login; fresh
// but without the acr, Vault refuses it on the bound claim.
func TestStaleSignInIsRefusedByVault(t *testing.T) {
	setup(t)
	ctx := context.Background()
	now := time.Now()
	base := map[string]any{"cern_upn": "carol", "cern_roles": []string{"alice-ci-admins"}, "acr": teststack.StepUpACR}
	with := func(edits map[string]any) map[string]any {
		c := map[string]any{}
		for k, v := range base {
			c[k] = v
		}
		for k, v := range edits {
			c[k] = v
		}
		return c
	}
	tests := []struct {
		name   string
		claims map[string]any
		refuse string // "": a token; else what Vault's refusal says
	}{
		{"an hour old", with(map[string]any{"auth_time": now.Add(-time.Hour).Unix()}), "beyond max age"},
		{"just past max_age", with(map[string]any{"auth_time": now.Add(-3 * time.Minute).Unix()}), "beyond max age"},
		{"no auth_time", with(nil), "missing auth_time"},
		{"fresh", with(map[string]any{"auth_time": now.Unix()}), ""},
		{"fresh without the step-up acr", with(map[string]any{"auth_time": now.Unix(), "acr": nil}), `claim "acr" is missing`},
		{"fresh with another acr", with(map[string]any{"auth_time": now.Unix(), "acr": "urn:other"}), "acr"},
		{"fresh without the role", with(map[string]any{"auth_time": now.Unix(), "cern_roles": []string{"alice-ci-users"}}), "cern_roles"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const client = "alice-alilogin-elevate-test"
			op := hostile.NewOIDCProvider(hostile.OIDCOptions{ClientID: client, Claims: tc.claims})
			t.Cleanup(op.Close)
			mount := fmt.Sprintf("oidc-stale-%d", i)
			configureOIDCMount(t, ctx, mount, op.Issuer, client, "hostile-secret", attendedCIAdmin())

			nonce := fmt.Sprintf("client-nonce-%d", i)
			u := authURL(t, ctx, mount, "ci-admin", "http://127.0.0.1:4711"+plan.RedirectPath, nonce)
			if q := mustParse(t, u).Query(); q.Get("max_age") != "120" {
				t.Errorf("Vault's authorization request asks max_age %q, want 120", q.Get("max_age"))
			}
			resp, err := noFollow.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			cb := mustParse(t, resp.Header.Get("Location"))
			if !strings.HasPrefix(cb.String(), "http://127.0.0.1:4711"+plan.RedirectPath) || cb.Query().Get("code") == "" {
				t.Fatalf("the provider did not send the browser back with a code: %s", cb)
			}
			pols, ttl, err := vaultCallback(ctx, mount, cb.Query(), nonce)
			switch {
			case tc.refuse == "" && err != nil:
				t.Fatalf("a fresh step-up sign-in was refused: %v", err)
			case tc.refuse == "":
				if want := []string{"alilogin-attended-ci-admin", "ci-secrets-write", "default"}; !slices.Equal(pols, want) || ttl <= 0 || ttl > 600 {
					t.Errorf("token policies %v, TTL %vs; want %v, at most the 10m window", pols, ttl, want)
				}
				// The same ID token handed to the mount's JWT login
				// (no OIDC flow, no max_age check) is refused: the role
				// is for the OIDC flow only.
				if _, _, err := vaultAnon(ctx, "POST", "/v1/auth/"+mount+"/login", map[string]any{"role": "ci-admin", "jwt": op.IDToken("")}); err == nil {
					t.Error("Vault's JWT login accepted an ID token for the OIDC role")
				}
			case err == nil:
				t.Fatalf("Vault gave a token (policies %v); want it refused (%s)", pols, tc.refuse)
			case !strings.Contains(err.Error(), tc.refuse):
				t.Errorf("refused, but not for the expected reason %q: %v", tc.refuse, err)
			}
		})
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// callbackSink is the loopback end of the flows: it records the query
// of each callback (code, state) and answers a short page.
type callbackSink struct {
	*httptest.Server
	got chan url.Values
}

func newCallbackSink(t *testing.T) *callbackSink {
	s := &callbackSink{got: make(chan url.Values, 4)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" && r.URL.Path != plan.RedirectPath {
			http.NotFound(w, r) // the browser's favicon.ico
			return
		}
		s.got <- r.URL.Query()
		fmt.Fprint(w, "<!doctype html><p>callback received</p>")
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *callbackSink) next(t *testing.T, ctx context.Context) url.Values {
	t.Helper()
	select {
	case q := <-s.got:
		return q
	case <-ctx.Done():
		t.Fatal("no callback arrived")
		return nil
	}
}

// TestAttendedSignInWithoutPromptLoginIsRefused: right after an ordinary
// login in Chromium (Hydra's session live, within max_age), a flow for
// the attended role that leaves out prompt=login is let through by Hydra
// without the login page, so the login app sets no step-up acr, and
// Vault refuses the sign-in on the bound acr. With prompt=login, Hydra
// shows the page, the user types the credentials, and Vault gives the
// attended token.
func TestAttendedSignInWithoutPromptLoginIsRefused(t *testing.T) {
	setup(t)
	dir, _ := attendedDir(t)
	mustApply(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := teststack.NewBrowser()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sink := newCallbackSink(t)

	// An ordinary login, as alilogin login makes it (public client, PKCE).
	verifier := "ordinary-login-verifier-0123456789-abcdefghijklmnop"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {stack.Hydra.ClientID}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {sink.URL + "/callback"}, "state": {"ordinary-state"}, "nonce": {"ordinary-nonce"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	if _, err := b.Login(ctx, stack.Hydra.IssuerURL+"oauth2/auth?"+q.Encode(), "carol", "carol-pw", sink.URL+"/callback"); err != nil {
		t.Fatal(err)
	}
	if cb := sink.next(t, ctx); cb.Get("code") == "" {
		t.Fatalf("ordinary login: no code: %v", cb)
	}

	// The attended flow without prompt=login: no login page, no acr.
	redirect := sink.URL + plan.RedirectPath
	if err := b.Open(ctx, authURL(t, ctx, "oidc", "ci-admin", redirect, "nonce-1")); err != nil {
		t.Fatal(err)
	}
	cb := sink.next(t, ctx)
	if cb.Get("code") == "" {
		t.Fatalf("Hydra did not skip the login page for the live session: %v", cb)
	}
	if pols, _, err := vaultCallback(ctx, "oidc", cb, "nonce-1"); err == nil {
		t.Fatalf("Vault gave the attended token (%v) for a sign-in without the step-up claim", pols)
	} else if !strings.Contains(err.Error(), "acr") {
		t.Errorf("refused, but not on the acr: %v", err)
	}

	// With prompt=login: the login page, typed credentials, the token.
	if err := b.Open(ctx, authURL(t, ctx, "oidc", "ci-admin", redirect, "nonce-2")+"&prompt=login"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitURL(ctx, stack.Hydra.AppURL+"/login"); err != nil {
		t.Fatalf("prompt=login did not show the login page: %v", err)
	}
	if err := b.SubmitLogin(ctx, "carol", "carol-pw"); err != nil {
		t.Fatal(err)
	}
	pols, _, err := vaultCallback(ctx, "oidc", sink.next(t, ctx), "nonce-2")
	if err != nil {
		t.Fatalf("a typed sign-in was refused: %v", err)
	}
	if want := []string{"alilogin-attended-ci-admin", "ci-secrets-write", "default"}; !slices.Equal(pols, want) {
		t.Errorf("attended token policies %v, want %v", pols, want)
	}
}
