package e2e

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/teststack"
)

var (
	pkiOnce sync.Once
	testPKI *teststack.VaultPKI
)

// setupPKI is setup plus a PKI mount "pki" in the stack's Vault, with no
// role but the stack's own server role.
func setupPKI(t *testing.T) {
	t.Helper()
	setup(t)
	var err error
	pkiOnce.Do(func() { testPKI, err = stack.EnablePKI(context.Background(), "pki") })
	if err != nil || testPKI == nil {
		t.Fatalf("could not enable pki: %v", err)
	}
	var out struct {
		Data struct{ Keys []string } `json:"data"`
	}
	if err := vaultC.Do(context.Background(), "GET", "/v1/pki/roles?list=true", nil, &out); err != nil && apiclient.StatusOf(err) != 404 {
		t.Fatal(err)
	}
	for _, k := range out.Data.Keys {
		if k != "alilogin-test-server" {
			mustDo(t, vaultC, "DELETE", "/v1/pki/roles/"+url.PathEscape(k), nil, nil)
		}
	}
}

// certPolicies is the ALICE example with pki_mount = "pki" and
// client certificates of 10 minutes for ci-user.
func certPolicies(t *testing.T) string {
	t.Helper()
	dir := policiesDir(t, nil)
	b := readFile(t, filepath.Join(dir, "broker.hcl"))
	writeFile(t, filepath.Join(dir, "broker.hcl"), strings.Replace(b, `jwt_mount          = "jwt"`, "jwt_mount          = \"jwt\"\n  pki_mount          = \"pki\"", 1))
	p := readFile(t, filepath.Join(dir, "profiles.hcl"))
	writeFile(t, filepath.Join(dir, "profiles.hcl"), strings.Replace(p, `  max_ttl         = "12h"`, "  max_ttl         = \"12h\"\n  client_cert_ttl = \"10m\"", 1))
	return dir
}

// vaultLogin logs user in to Vault with profile (a real ID token from
// Hydra) and returns a client with the user's Vault token.
func vaultLogin(t *testing.T, username, profile string) *apiclient.Client {
	t.Helper()
	ctx := context.Background()
	idToken := ssoIDToken(t, ctx, username)
	var out struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	mustDo(t, vaultC.WithToken(secret.String{}), "POST", "/v1/auth/jwt/login", map[string]any{"role": profile, "jwt": idToken}, &out)
	return vaultC.WithToken(secret.New(out.Auth.ClientToken))
}

// TestClientCertRoleSignsOwnNameOnly: apply makes the PKI role of a
// profile with client_cert_ttl; a user logged in with it gets a
// client-only certificate in their own name, is refused one in another
// user's name, and can revoke their own with its key.
func TestClientCertRoleSignsOwnNameOnly(t *testing.T) {
	setupPKI(t)
	ctx := context.Background()
	dir := certPolicies(t)
	if code, _, stderr := broker(t, "validate", dir); code != exitOK {
		t.Fatalf("validate: exit %d: %s", code, stderr)
	}
	keys := planKeys(t, dir)
	if !slices.Contains(keys, changeKey{plan.Create, plan.PKIRole, "ci-user"}) || slices.Contains(keys, changeKey{plan.Create, plan.PKIRole, "ci-admin"}) {
		t.Fatalf("plan: %v; want a pki role for ci-user only", keys)
	}
	mustApply(t, dir)
	if code, _, _ := broker(t, "plan", "--detailed-exitcode", dir); code != exitOK {
		t.Errorf("plan after apply: exit %d, want 0", code)
	}
	assertNoWrites(t, dir)

	// The role as Vault has it: templated on the JWT mount's accessor,
	// client use only, host names only, with a lease, the profile's
	// certificate TTL.
	var role struct {
		Data map[string]any `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/pki/roles/ci-user", nil, &role)
	acc := jwtAccessor(t)
	if got := role.Data["allowed_domains"]; len(got.([]any)) != 1 || got.([]any)[0] != "{{identity.entity.aliases."+acc+".name}}" {
		t.Errorf("allowed_domains = %v", got)
	}
	for k, want := range map[string]any{"client_flag": true, "server_flag": false, "allowed_domains_template": true, "allow_bare_domains": true,
		"enforce_hostnames": true, "generate_lease": true, "ttl": 600.0, "max_ttl": 600.0, "key_type": "ec", "allow_any_name": false, "allow_ip_sans": false} {
		if role.Data[k] != want {
			t.Errorf("role %s = %v, want %v", k, role.Data[k], want)
		}
	}

	alice := vaultLogin(t, "alice", "ci-user")
	c, err := clientcert.Sign(ctx, alice, "pki", "ci-user", "alice", 0)
	if err != nil {
		t.Fatalf("alice signing her own name: %v", err)
	}
	x, err := clientcert.Parse(c.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	if x.Subject.CommonName != "alice" || !slices.Equal(x.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("certificate: CN %q, ext key usage %v; want alice, client auth only", x.Subject.CommonName, x.ExtKeyUsage)
	}
	if d := time.Until(x.NotAfter); d > 10*time.Minute+time.Minute || d < 8*time.Minute {
		t.Errorf("certificate valid for %s, want the profile's 10m", d)
	}
	if _, err := clientcert.Sign(ctx, alice, "pki", "ci-user", "carol", 0); apiclient.StatusOf(err) != 400 {
		t.Errorf("alice signing carol's name: %v; want Vault's refusal (400)", err)
	}
	// Vault caps a longer TTL asked for at the role's max_ttl.
	if long, err := clientcert.Sign(ctx, alice, "pki", "ci-user", "alice", 2*time.Hour); err != nil || time.Until(long.NotAfter) > 11*time.Minute {
		t.Errorf("asking for 2h: %v, %+v; want at most the role's 10m", err, long)
	}
	// Another profile's role is not the user's to use.
	if _, err := clientcert.Sign(ctx, alice, "pki", "alilogin-test-server", "localhost", 0); apiclient.StatusOf(err) != 403 {
		t.Errorf("alice signing at another role: %v; want 403", err)
	}

	// Revocation with the key; a key that is not the certificate's is refused.
	other, err := clientcert.Sign(ctx, alice, "pki", "ci-user", "alice", 0)
	if err != nil {
		t.Fatal(err)
	}
	wrong := *c
	wrong.Key = other.Key
	if err := clientcert.Revoke(ctx, alice, "pki", &wrong); err == nil {
		t.Errorf("revocation with another key succeeded")
	}
	if err := clientcert.Revoke(ctx, alice, "pki", c); err != nil {
		t.Fatal(err)
	}
	revoked, err := testPKI.RevokedSerials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(revoked, c.Serial) || slices.Contains(revoked, other.Serial) {
		t.Errorf("revoked %v; want %s and not %s", revoked, c.Serial, other.Serial)
	}

	// explain shows the certificate a user would get.
	_, out, _ := broker(t, "explain", dir, "--roles", "alice-ci-users", "--json")
	var ex struct {
		Profiles []struct {
			ClientCert *struct {
				TTL  string `json:"ttl"`
				Sign string `json:"sign_path"`
			} `json:"client_certificate"`
		}
	}
	if err := json.Unmarshal([]byte(out), &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.Profiles) != 1 || ex.Profiles[0].ClientCert == nil || ex.Profiles[0].ClientCert.TTL != "10m0s" || ex.Profiles[0].ClientCert.Sign != "pki/sign/ci-user" {
		t.Errorf("explain: %+v", ex.Profiles)
	}
}

// TestClientCertRoleDriftAndConflict: a hand edit that widens the managed
// PKI role is drift that apply repairs; a PKI role of a profile's name
// that the broker did not make is a conflict, left as it is.
func TestClientCertRoleDriftAndConflict(t *testing.T) {
	setupPKI(t)
	dir := certPolicies(t)

	mustDo(t, vaultC, "POST", "/v1/pki/roles/ci-user", map[string]any{"allow_any_name": true, "client_flag": true}, nil)
	if code, _, stderr := broker(t, "apply", "--auto-approve", dir); code != exitError || !strings.Contains(stderr, "pki role") {
		t.Fatalf("apply over a hand-made pki role: exit %d: %s; want a conflict naming it", code, stderr)
	}
	var role struct {
		Data map[string]any `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/pki/roles/ci-user", nil, &role)
	if role.Data["allow_any_name"] != true {
		t.Errorf("the hand-made role was changed: %v", role.Data)
	}
	mustDo(t, vaultC, "DELETE", "/v1/pki/roles/ci-user", nil, nil)

	if code, _, stderr := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
	mustDo(t, vaultC, "POST", "/v1/pki/roles/ci-user", map[string]any{"allow_any_name": true}, nil)
	if keys := planKeys(t, dir); !slices.Equal(keys, []changeKey{{plan.Update, plan.PKIRole, "ci-user"}}) {
		t.Fatalf("plan after a hand edit: %v; want the pki role's update", keys)
	}
	if code, _, stderr := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply after the hand edit: exit %d: %s", code, stderr)
	}
	mustDo(t, vaultC, "GET", "/v1/pki/roles/ci-user", nil, &role)
	if role.Data["allow_any_name"] != false {
		t.Errorf("drift not repaired: %v", role.Data["allow_any_name"])
	}
	assertNoWrites(t, dir)

	// Without client_cert_ttl, prune deletes the role.
	p := readFile(t, filepath.Join(dir, "profiles.hcl"))
	writeFile(t, filepath.Join(dir, "profiles.hcl"), strings.Replace(p, "  client_cert_ttl = \"10m\"\n", "", 1))
	if keys := planKeys(t, dir, "--prune"); !slices.Contains(keys, changeKey{plan.Delete, plan.PKIRole, "ci-user"}) {
		t.Fatalf("plan --prune: %v; want the pki role's delete", keys)
	}
}
