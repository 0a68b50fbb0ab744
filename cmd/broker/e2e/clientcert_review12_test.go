package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"slices"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/teststack"
)

// signRaw sends a CSR for cn (and the CSR's own extra DNS names) to
// pki/sign/ci-user with the extra request fields, as a user with the
// profile's policy can, and returns the certificate Vault signed (nil
// when Vault refused).
func signRaw(t *testing.T, c *apiclient.Client, cn string, csrDNS []string, extra map[string]any) *x509.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}, DNSNames: csrDNS}, k)
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"csr": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), "format": "pem"}
	for k, v := range extra {
		body[k] = v
	}
	var out struct {
		Data struct {
			Certificate string `json:"certificate"`
		} `json:"data"`
	}
	if err := c.Do(context.Background(), "POST", "/v1/pki/sign/ci-user", body, &out); err != nil {
		t.Logf("cn %q extra %v: refused: %v", cn, extra, err)
		return nil
	}
	blk, _ := pem.Decode([]byte(out.Data.Certificate))
	x, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestReview12ClientCertRoleRefusesOtherNames: a user of the profile
// (alice) gets no certificate whose subject or SANs name anyone but her
// own alias name, whatever she puts in the sign request: another CN
// with exclude_cn_from_sans (the CN then escapes the SAN check, and
// cn_validations = disabled skips the CN's own check), names Vault
// does not take for host names, e-mail style names whose domain part is
// hers, alt_names, other SANs, or a CSR carrying extra names. (CN=ALICE
// is signed too: Vault compares bare domains without case; that is
// alice herself, so it is left out here.)
func TestReview12ClientCertRoleRefusesOtherNames(t *testing.T) {
	setupPKI(t)
	dir := certPolicies(t)
	if code, _, stderr := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
	alice := vaultLogin(t, "alice", "ci-user")
	if x := signRaw(t, alice, "alice", nil, nil); x == nil || x.Subject.CommonName != "alice" {
		t.Fatalf("alice's own certificate: %+v", x)
	}
	for _, tc := range []struct {
		name   string
		cn     string
		csrDNS []string
		extra  map[string]any
	}{
		{"another CN excluded from the SANs", "carol", nil, map[string]any{"exclude_cn_from_sans": true}},
		{"another CN that is no host name", "carol smith", nil, nil},
		{"another CN with a slash", "carol/alice", nil, nil},
		{"e-mail style CN in her domain", "carol@alice", nil, nil},
		{"trailing dot", "alice.", nil, nil},
		{"alt_names of another", "alice", nil, map[string]any{"alt_names": "carol"}},
		{"alt_names e-mail", "alice", nil, map[string]any{"alt_names": "carol@alice"}},
		{"uri_sans", "alice", nil, map[string]any{"uri_sans": "spiffe://carol"}},
		{"ip_sans", "alice", nil, map[string]any{"ip_sans": "127.0.0.1"}},
		{"other_sans", "alice", nil, map[string]any{"other_sans": "1.3.6.1.4.1.311.20.2.3;utf8:carol"}},
		{"CSR with another DNS name", "alice", []string{"carol"}, nil},
		{"wildcard", "*", nil, nil},
	} {
		x := signRaw(t, alice, tc.cn, tc.csrDNS, tc.extra)
		if x == nil {
			continue
		}
		others := []string{}
		if x.Subject.CommonName != "alice" {
			others = append(others, "CN="+x.Subject.CommonName)
		}
		for _, d := range x.DNSNames {
			if d != "alice" {
				others = append(others, "DNS:"+d)
			}
		}
		for _, e := range x.EmailAddresses {
			others = append(others, "email:"+e)
		}
		for _, u := range x.URIs {
			others = append(others, "URI:"+u.String())
		}
		for _, ip := range x.IPAddresses {
			others = append(others, "IP:"+ip.String())
		}
		if len(others) > 0 {
			t.Errorf("%s: alice got a certificate naming %v (subject %s)", tc.name, others, x.Subject)
		}
	}
}

// TestReview12ClientCertNotAfterCapped: not_after in the sign request
// gives no certificate beyond the profile's client_cert_ttl.
func TestReview12ClientCertNotAfterCapped(t *testing.T) {
	setupPKI(t)
	dir := certPolicies(t)
	if code, _, stderr := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
	alice := vaultLogin(t, "alice", "ci-user")
	x := signRaw(t, alice, "alice", nil, map[string]any{"not_after": time.Now().Add(20 * time.Hour).UTC().Format(time.RFC3339)})
	if x != nil && time.Until(x.NotAfter) > 11*time.Minute {
		t.Errorf("not_after: certificate valid until %s, beyond the profile's 10m", x.NotAfter)
	}
	// fix12: ttl is the one lifetime field the policy lets through (Sign
	// sends it); the role's max_ttl (client_cert_ttl) caps it.
	x = signRaw(t, alice, "alice", nil, map[string]any{"ttl": "20h"})
	if x == nil || time.Until(x.NotAfter) > 11*time.Minute {
		t.Errorf("ttl 20h: certificate %v; want one capped at the profile's 10m", x)
	}
}

// TestReview12PKIRoleDriftInUnreadFields: a hand edit of the managed PKI
// role that widens what it signs in a field the broker neither writes
// nor reads back (organization, ou: subject attributes that every
// certificate of the profile then carries and a server may authorize on)
// is drift that plan shows and apply repairs, like allow_any_name.
// (allow_token_displayname was tried too: Vault 1.13 does not keep it.)
func TestReview12PKIRoleDriftInUnreadFields(t *testing.T) {
	setupPKI(t)
	dir := certPolicies(t)
	if code, _, stderr := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
	for field, val := range map[string]any{"organization": []string{"CERN"}, "ou": []string{"alice-admins"}} {
		var role struct {
			Data map[string]any `json:"data"`
		}
		mustDo(t, vaultC, "GET", "/v1/pki/roles/ci-user", nil, &role)
		body := role.Data
		body[field] = val
		mustDo(t, vaultC, "POST", "/v1/pki/roles/ci-user", body, nil)
		mustDo(t, vaultC, "GET", "/v1/pki/roles/ci-user", nil, &role)
		t.Logf("%s now %v", field, role.Data[field])
		if keys := planKeys(t, dir); !slices.Contains(keys, changeKey{plan.Update, plan.PKIRole, "ci-user"}) {
			t.Errorf("hand edit %s = %v of the managed pki role: plan %v; want its update (drift)", field, val, keys)
		}
		if code, _, stderr := broker(t, "apply", "--auto-approve", dir); code != exitOK {
			t.Fatalf("apply: exit %d: %s", code, stderr)
		}
		delete(body, field)
		mustDo(t, vaultC, "DELETE", "/v1/pki/roles/ci-user", nil, nil)
		mustDo(t, vaultC, "POST", "/v1/pki/roles/ci-user", body, nil)
	}
}

// TestReview12ClientCertRSACA: a PKI mount whose CA has an RSA key (the
// usual Vault PKI root) signs alilogin's EC client certificate; the
// certificate is usable, so Sign must not refuse the chain because the CA
// is not EC (only the leaf is the caller's EC key).
func TestReview12ClientCertRSACA(t *testing.T) {
	setup(t)
	ctx := context.Background()
	const mount = "pki-rsa-review12"
	mustDo(t, vaultC, "POST", "/v1/sys/mounts/"+mount, map[string]any{"type": "pki", "config": map[string]any{"max_lease_ttl": "24h"}}, nil)
	t.Cleanup(func() { _ = vaultC.Do(context.Background(), "DELETE", "/v1/sys/mounts/"+mount, nil, nil) })
	mustDo(t, vaultC, "POST", "/v1/"+mount+"/root/generate/internal", map[string]any{"common_name": "rsa root", "ttl": "24h", "key_type": "rsa", "key_bits": 2048}, nil)
	mustDo(t, vaultC, "POST", "/v1/"+mount+"/roles/ci-user", map[string]any{"allowed_domains": []string{"alice"}, "allow_bare_domains": true,
		"client_flag": true, "server_flag": false, "key_type": "ec", "key_bits": 256, "ttl": "10m", "max_ttl": "10m"}, nil)
	c, err := clientcert.Sign(ctx, vaultC, mount, "ci-user", "alice", 0)
	if err != nil {
		t.Fatalf("signing with an RSA CA: %v", err)
	}
	if c.ChainPEM == "" {
		t.Errorf("no CA chain kept")
	}
}

// TestReview12ClientCertDiesWithVaultToken: the promise is
// "certificates that expire with the tokens". A certificate is valid for
// client_cert_ttl (up to the profile's max_ttl) while the Vault token
// that signed it may be revoked long before: by an admin answering an
// incident (vault token revoke), or by Vault at its token_ttl when it is
// not renewed. The managed role has generate_lease = false, so Vault
// ties no lease of the certificate to the token: revoking the token
// leaves the certificate valid and unrevoked until it expires. With a
// lease, Vault revokes the certificate with the token.
func TestReview12ClientCertDiesWithVaultToken(t *testing.T) {
	setupPKI(t)
	ctx := context.Background()
	dir := certPolicies(t)
	if code, _, stderr := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
	alice := vaultLogin(t, "alice", "ci-user")
	c, err := clientcert.Sign(ctx, alice, "pki", "ci-user", "alice", 0)
	if err != nil {
		t.Fatal(err)
	}
	mustDo(t, alice, "POST", "/v1/auth/token/revoke-self", nil, nil)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var revoked []string
	err = teststack.WaitUntil(wctx, "the certificate revoked with its Vault token", func() bool {
		revoked, _ = testPKI.RevokedSerials(ctx)
		return slices.Contains(revoked, c.Serial)
	})
	if err != nil {
		t.Errorf("alice's Vault token revoked; her certificate %s (valid until %s) is not: revoked list %v", c.Serial, c.NotAfter, revoked)
	}
	// fix12: what logout asks when the token is gone: the certificate's
	// state at <mount>/cert/<serial>, with no token.
	if ok, err := clientcert.Revoked(ctx, vaultC.WithToken(secret.String{}), c); err != nil || !ok {
		t.Errorf("clientcert.Revoked without a token: %v, %v; want true", ok, err)
	}
}
