package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"net"
	"net/url"
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
	return signCSR(t, c, "/v1/pki/sign/ci-user", &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}, DNSNames: csrDNS}, extra)
}

// applyCertPolicies sets up the PKI mount, applies certPolicies' folder
// and returns it.
func applyCertPolicies(t *testing.T) string {
	t.Helper()
	setupPKI(t)
	dir := certPolicies(t)
	if code, _, stderr := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
	return dir
}

// TestClientCertRoleRefusesOtherNames: a user of the profile
// (alice) gets no certificate whose subject or SANs name anyone but her
// own alias name, whatever she puts in the sign request: another CN
// with exclude_cn_from_sans (the CN then escapes the SAN check, and
// cn_validations = disabled skips the CN's own check), names Vault
// does not take for host names, e-mail style names whose domain part is
// hers, alt_names, other SANs, or a CSR carrying extra names. (CN=ALICE
// is signed too: Vault compares bare domains without case; that is
// alice herself, so it is left out here.)
func TestClientCertRoleRefusesOtherNames(t *testing.T) {
	applyCertPolicies(t)
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

// TestClientCertNotAfterCapped: not_after in the sign request
// gives no certificate beyond the profile's client_cert_ttl.
func TestClientCertNotAfterCapped(t *testing.T) {
	applyCertPolicies(t)
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

// TestPKIRoleDriftInUnreadFieldsIsShown: a hand edit of the managed PKI
// role that widens what it signs in a field the broker neither writes
// nor reads back (organization, ou: subject attributes that every
// certificate of the profile then carries and a server may authorize on)
// is drift that plan shows and apply repairs, like allow_any_name.
// (allow_token_displayname was tried too: Vault 1.13 does not keep it.)
func TestPKIRoleDriftInUnreadFieldsIsShown(t *testing.T) {
	dir := applyCertPolicies(t)
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

// TestClientCertFromRSACA: a PKI mount whose CA has an RSA key (the
// usual Vault PKI root) signs alilogin's EC client certificate; the
// certificate is usable, so Sign must not refuse the chain because the CA
// is not EC (only the leaf is the caller's EC key).
func TestClientCertFromRSACA(t *testing.T) {
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

// TestClientCertDiesWithVaultToken: the promise is
// "certificates that expire with the tokens". A certificate is valid for
// client_cert_ttl (up to the profile's max_ttl) while the Vault token
// that signed it may be revoked long before: by an admin answering an
// incident (vault token revoke), or by Vault at its token_ttl when it is
// not renewed. The managed role has generate_lease = false, so Vault
// ties no lease of the certificate to the token: revoking the token
// leaves the certificate valid and unrevoked until it expires. With a
// lease, Vault revokes the certificate with the token.
func TestClientCertDiesWithVaultToken(t *testing.T) {
	ctx := context.Background()
	applyCertPolicies(t)
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

// signCSR sends csr to path as alice can, and returns what Vault signed
// (nil when refused).
func signCSR(t *testing.T, c *apiclient.Client, path string, tpl *x509.CertificateRequest, extra map[string]any) *x509.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tpl, k)
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
	if err := c.Do(context.Background(), "POST", path, body, &out); err != nil {
		t.Logf("%s %v: refused: %v", path, extra, err)
		return nil
	}
	blk, _ := pem.Decode([]byte(out.Data.Certificate))
	if blk == nil {
		t.Fatalf("%s: no certificate in %q", path, out.Data.Certificate)
	}
	x, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestCSRExtensionsNotCopied: the CSR is the one request field
// that carries anything; with use_csr_sans false and
// use_csr_common_name true, Vault must take only its CN. A CSR asking for
// a CA certificate, server or code-signing use, certificate-signing key
// usage, other subject attributes (O, OU, serialNumber, a second CN), or
// SANs of any type gets none of them; ttl is capped by the role.
func TestCSRExtensionsNotCopied(t *testing.T) {
	applyCertPolicies(t)
	alice := vaultLogin(t, "alice", "ci-user")
	bc, _ := asn1.Marshal(struct {
		IsCA       bool `asn1:"optional"`
		MaxPathLen int  `asn1:"optional,default:-1"`
	}{true, 3})
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 1}, {1, 3, 6, 1, 5, 5, 7, 3, 3}, {2, 5, 29, 37, 0}})
	ku, _ := asn1.Marshal(asn1.BitString{Bytes: []byte{0x06}, BitLength: 7}) // keyCertSign, cRLSign
	u, _ := url.Parse("spiffe://carol")
	tpl := &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: "alice", Organization: []string{"CERN"}, OrganizationalUnit: []string{"admins"}},
		DNSNames: []string{"carol"}, EmailAddresses: []string{"carol@alice"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, URIs: []*url.URL{u},
		ExtraExtensions: []pkix.Extension{
			{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: bc},
			{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Value: eku},
			{Id: asn1.ObjectIdentifier{2, 5, 29, 15}, Critical: true, Value: ku},
		},
	}
	// A second CN attribute: refused, or only alice.
	two := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice",
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "carol"}}}}
	if x := signCSR(t, alice, "/v1/pki/sign/ci-user", two, nil); x != nil && x.Subject.String() != "CN=alice" {
		t.Errorf("two CNs: signed %s", x.Subject)
	}
	sn := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice", SerialNumber: "carol"}}
	if x := signCSR(t, alice, "/v1/pki/sign/ci-user", sn, nil); x != nil && x.Subject.String() != "CN=alice" {
		t.Errorf("subject serialNumber: signed %s", x.Subject)
	}
	x := signCSR(t, alice, "/v1/pki/sign/ci-user", tpl, map[string]any{"ttl": "1000h"})
	if x == nil {
		t.Fatal("alice's own CN with extra extensions was refused: the test checks nothing")
	}
	if x.IsCA || x.BasicConstraintsValid && x.MaxPathLen > 0 {
		t.Errorf("a CA certificate: IsCA %v MaxPathLen %d", x.IsCA, x.MaxPathLen)
	}
	if len(x.ExtKeyUsage) != 1 || x.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth || len(x.UnknownExtKeyUsage) > 0 {
		t.Errorf("ext key usage %v %v; want client auth only", x.ExtKeyUsage, x.UnknownExtKeyUsage)
	}
	if x.KeyUsage&(x509.KeyUsageCertSign|x509.KeyUsageCRLSign) != 0 {
		t.Errorf("key usage %b carries cert/CRL signing", x.KeyUsage)
	}
	if got := x.Subject.String(); got != "CN=alice" {
		t.Errorf("subject %q; want CN=alice only", got)
	}
	if len(x.EmailAddresses)+len(x.IPAddresses)+len(x.URIs) > 0 || len(x.DNSNames) > 1 || len(x.DNSNames) == 1 && x.DNSNames[0] != "alice" {
		t.Errorf("SANs DNS %v email %v IP %v URI %v", x.DNSNames, x.EmailAddresses, x.IPAddresses, x.URIs)
	}
	if x.NotAfter.After(time.Now().Add(11 * time.Minute)) {
		t.Errorf("not after %s; want within the profile's 10m", x.NotAfter)
	}
	for _, e := range x.Extensions {
		switch e.Id.String() {
		case "2.5.29.19", "2.5.29.37", "2.5.29.15", "2.5.29.17", "2.5.29.14", "2.5.29.35", "1.3.6.1.5.5.7.1.1", "2.5.29.31":
		default:
			t.Errorf("extension %s (critical %v) copied into the certificate", e.Id, e.Critical)
		}
	}
}

// TestOtherSignPathsRefused: the profile's policy reaches signing at
// <mount>/sign/<profile> only: the issuer-scoped path of the same role,
// sign-verbatim, issue, another profile's role, odd spellings of the
// path, and request fields smuggled in the query string are refused.
func TestOtherSignPathsRefused(t *testing.T) {
	applyCertPolicies(t)
	alice := vaultLogin(t, "alice", "ci-user")
	tpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "carol"}}
	for _, p := range []string{
		"/v1/pki/issuer/default/sign/ci-user", "/v1/pki/sign-verbatim", "/v1/pki/sign-verbatim/ci-user",
		"/v1/pki/issuer/default/sign-verbatim/ci-user", "/v1/pki/sign/ci-admin", "/v1/pki/sign/alilogin-test-server",
		"/v1/pki/sign/ci-user?exclude_cn_from_sans=true", "/v1/pki/sign/ci-user/", "/v1/pki//sign/ci-user", "/v1/pki/sign/CI-USER",
		"/v1/pki/root/sign-intermediate", "/v1/pki/issuer/default/sign-intermediate",
	} {
		if x := signCSR(t, alice, p, tpl, nil); x != nil {
			t.Errorf("%s signed %s", p, x.Subject)
		}
	}
	// The query string must not add fields past allowed_parameters.
	own := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice"}}
	if x := signCSR(t, alice, "/v1/pki/sign/ci-user?alt_names=carol&ttl=1000h&not_after=2099-01-01T00:00:00Z", own, nil); x != nil &&
		(len(x.DNSNames) != 1 || x.DNSNames[0] != "alice" || x.NotAfter.After(time.Now().Add(11*time.Minute))) {
		t.Errorf("query fields: signed %s %v until %s", x.Subject, x.DNSNames, x.NotAfter)
	}
}

// TestServerNameAliasSignsClientOnly pins a documented limit
// (docs/admin-guide.md, docs/security.md): the role signs, in the user's
// own name, any alias name that is a host name, dots included, as Vault
// 1.13's role fields cannot refuse a dotted name (allowed_domains is the
// alias name as a bare domain; neither the glob rules nor cn_validations
// count labels). Whoever's alias name on the JWT mount is
// server.global.nomad (an SSO whose user claim has dotted names) gets a
// client certificate of that name; broker validate warns for a user
// claim that may hold dots, and the guide says to keep the user CA out of
// Nomad's and Consul's RPC trust. Here alice's alias is renamed by root to
// show what the role signs for such a name: exactly that name, as a TLS
// client only (no server auth), never another one (the review's original
// want, refused, is not reachable with Vault 1.13).
func TestServerNameAliasSignsClientOnly(t *testing.T) {
	ctx := context.Background()
	applyCertPolicies(t)
	alice := vaultLogin(t, "alice", "ci-user")
	var self struct {
		Data struct {
			EntityID string `json:"entity_id"`
		} `json:"data"`
	}
	mustDo(t, alice, "GET", "/v1/auth/token/lookup-self", nil, &self)
	var ent struct {
		Data struct {
			Aliases []struct {
				ID            string `json:"id"`
				Name          string `json:"name"`
				MountAccessor string `json:"mount_accessor"`
				MountPath     string `json:"mount_path"`
			} `json:"aliases"`
		} `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/identity/entity/id/"+self.Data.EntityID, nil, &ent)
	var id, acc, name string
	for _, a := range ent.Data.Aliases {
		if a.MountPath == "auth/jwt/" {
			id, acc, name = a.ID, a.MountAccessor, a.Name
		}
	}
	if id == "" {
		t.Fatalf("no jwt alias in %+v", ent.Data.Aliases)
	}
	rename := func(n string) {
		mustDo(t, vaultC, "POST", "/v1/identity/entity-alias/id/"+id, map[string]any{"name": n, "canonical_id": self.Data.EntityID, "mount_accessor": acc}, nil)
	}
	rename("server.global.nomad")
	defer rename(name)
	_ = ctx
	x := signCSR(t, alice, "/v1/pki/sign/ci-user", &x509.CertificateRequest{Subject: pkix.Name{CommonName: "server.global.nomad"}}, nil)
	if x == nil {
		t.Fatal("the documented limit changed: the role refused the dotted alias name; update docs/admin-guide.md and docs/security.md")
	}
	if x.Subject.CommonName != "server.global.nomad" || len(x.DNSNames) > 1 || len(x.DNSNames) == 1 && x.DNSNames[0] != "server.global.nomad" ||
		len(x.ExtKeyUsage) != 1 || x.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("signed %s DNS %v EKU %v; want CN and only name server.global.nomad, client auth only", x.Subject, x.DNSNames, x.ExtKeyUsage)
	}
	// Another dotted name than the alias's is still refused.
	if y := signCSR(t, alice, "/v1/pki/sign/ci-user", &x509.CertificateRequest{Subject: pkix.Name{CommonName: "server.other.nomad"}}, nil); y != nil {
		t.Errorf("the role signed %s for alias server.global.nomad", y.Subject)
	}
}
