package e2e

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/teststack"
)

// attendedDir is the ALICE example with the stack's attended tier
// (teststack.AddAttended) on profile ci-admin; the client secret file is
// outside the folder. The OIDC mount is disabled when the test ends.
func attendedDir(t *testing.T) (dir, secretFile string) {
	t.Helper()
	dir = policiesDir(t, nil)
	secretFile = filepath.Join(t.TempDir(), "oidc-client-secret")
	if err := stack.AddAttended(dir, secretFile); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { disableOIDCMount(t) })
	return dir, secretFile
}

func disableOIDCMount(t *testing.T) {
	if err := vaultC.Do(context.Background(), "DELETE", "/v1/sys/auth/oidc", nil, nil); err != nil && apiclient.StatusOf(err) != 404 {
		t.Errorf("could not disable auth/oidc: %v", err)
	}
}

// vaultData reads path from the stack's Vault (root token).
func vaultData(t *testing.T, path string) map[string]any {
	t.Helper()
	var out struct {
		Data map[string]any `json:"data"`
	}
	mustDo(t, vaultC, "GET", path, nil, &out)
	return out.Data
}

func anyStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// TestApplyConfiguresAttendedTier: apply enables Vault's OIDC auth
// method, points it at the SSO with the confidential client, and makes
// the attended tier's OIDC role (max_age, the profile's roles and the
// step-up acr bound, tokens that live the window), its nomad role of
// type management, its consul role and its generated policy; the plan
// shows the client secret as (secret) only; a second plan is empty; a
// config changed by hand is drift, shown and repaired with the secret.
func TestApplyConfiguresAttendedTier(t *testing.T) {
	setup(t)
	dir, _ := attendedDir(t)
	if code, _, stderr := broker(t, "validate", dir); code != exitOK {
		t.Fatalf("validate: exit %d: %s", code, stderr)
	}
	code, out, stderr := broker(t, "plan", dir)
	if code != exitOK {
		t.Fatalf("plan: exit %d", code)
	}
	for _, want := range []string{`+ vault oidc auth config "oidc"`, `+ vault oidc role "ci-admin"`, `+ vault nomad attended role "ci-admin.attended"`,
		`+ vault consul attended role "ci-admin.attended"`, `+ vault policy "alilogin-attended-ci-admin"`} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q", want)
		}
	}
	if sec := stack.Hydra.AttendedClientSecret; strings.Contains(out+stderr, sec) {
		t.Fatal("plan printed the OIDC client secret")
	}
	if code, out, stderr := broker(t, "apply", "--auto-approve", dir); code != exitOK || strings.Contains(out+stderr, stack.Hydra.AttendedClientSecret) {
		t.Fatalf("apply: exit %d (or the secret printed)", code)
	}

	var auths struct {
		Data map[string]struct {
			Type string `json:"type"`
		} `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/sys/auth", nil, &auths)
	if typ := auths.Data["oidc/"].Type; typ != "oidc" {
		t.Errorf("auth/oidc is %q, want an oidc auth method", typ)
	}
	cfg := vaultData(t, "/v1/auth/oidc/config")
	if cfg["oidc_client_id"] != stack.Hydra.AttendedClientID || cfg["oidc_discovery_url"] != stack.Hydra.IssuerURL || cfg["bound_issuer"] != stack.Hydra.IssuerURL {
		t.Errorf("auth/oidc/config: %v", cfg)
	}
	role := vaultData(t, "/v1/auth/oidc/role/ci-admin")
	got := map[string]any{
		"role_type": role["role_type"], "max_age": role["max_age"], "token_ttl": role["token_ttl"],
		"token_explicit_max_ttl": role["token_explicit_max_ttl"], "bound_audiences": anyStrings(role["bound_audiences"]),
		"token_policies": anyStrings(role["token_policies"]), "allowed_redirect_uris": anyStrings(role["allowed_redirect_uris"]),
		"bound_claims": role["bound_claims"], "user_claim": role["user_claim"],
	}
	want := map[string]any{
		"role_type": "oidc", "max_age": float64(120), "token_ttl": float64(600), "token_explicit_max_ttl": float64(600),
		"bound_audiences": []string{stack.Hydra.AttendedClientID}, "token_policies": []string{"alilogin-attended-ci-admin", "ci-secrets-write"},
		"allowed_redirect_uris": []string{"http://127.0.0.1/oidc/callback"},
		"bound_claims":          map[string]any{"cern_roles": []any{"alice-ci-admins"}, "acr": []any{teststack.StepUpACR}},
		"user_claim":            "cern_upn",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("OIDC role (-want +got):\n%s", d)
	}
	if nr := vaultData(t, "/v1/nomad/role/ci-admin.attended"); nr["type"] != "management" {
		t.Errorf("attended nomad role: %v, want type management", nr)
	}
	if cr := vaultData(t, "/v1/consul/roles/ci-admin.attended"); !slices.Equal(anyStrings(cr["consul_policies"]), []string{"ci-service-kv-write"}) {
		t.Errorf("attended consul role: %v", cr)
	}
	pol := vaultData(t, "/v1/sys/policies/acl/alilogin-attended-ci-admin")
	text, _ := pol["policy"].(string)
	for _, want := range []string{`path "nomad/creds/ci-admin.attended"`, `path "consul/creds/ci-admin.attended"`, "object=vault/policy/alilogin-attended-ci-admin"} {
		if !strings.Contains(text, want) {
			t.Errorf("attended policy lacks %q:\n%s", want, text)
		}
	}
	prof := vaultData(t, "/v1/sys/policies/acl/alilogin-profile-ci-admin")
	if text, _ := prof["policy"].(string); !strings.Contains(text, "oidc@oidc") || !strings.Contains(text, "nomad-attended@nomad") || !strings.Contains(text, "consul-attended@consul") {
		t.Errorf("profile policy records no attended roles:\n%s", text)
	}

	if code, out, _ := broker(t, "plan", "--detailed-exitcode", dir); code != exitOK {
		t.Errorf("plan after apply: exit %d, want 0:\n%s", code, out)
	}

	// Drift: the config rewritten by hand without the client.
	mustDo(t, vaultC, "POST", "/v1/auth/oidc/config", map[string]any{"oidc_discovery_url": stack.Hydra.IssuerURL}, nil)
	code, out, stderr = broker(t, "plan", "--detailed-exitcode", dir)
	if code != exitChanges || !strings.Contains(out, `oidc_client_secret: "" -> "(secret)"`) || strings.Contains(out+stderr, stack.Hydra.AttendedClientSecret) {
		t.Errorf("plan of the drifted config: exit %d, want %d, the secret shown as (secret) only", code, exitChanges)
	}
	mustApply(t, dir)
	if cfg := vaultData(t, "/v1/auth/oidc/config"); cfg["oidc_client_id"] != stack.Hydra.AttendedClientID {
		t.Errorf("config not repaired: %v", cfg)
	}
}

// TestLeastPrivilegeVaultPolicyWithAttendedTier: the broker's documented
// least-privilege Vault policy (docs/broker-vault-policy.hcl) is enough
// to enable and configure the OIDC auth method and write the attended
// tier's objects, and to find nothing left to do afterwards.
func TestLeastPrivilegeVaultPolicyWithAttendedTier(t *testing.T) {
	setup(t)
	dir, _ := attendedDir(t)
	planApplyPlan(t, leastPrivilegeEnv(t), dir)
	if role := vaultData(t, "/v1/auth/oidc/role/ci-admin"); role["role_type"] != "oidc" {
		t.Errorf("OIDC role: %v", role)
	}
}
