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
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
)

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

// TestReview12bCSRExtensionsNotCopied: the CSR is the one request field
// that carries anything; with use_csr_sans false and
// use_csr_common_name true, Vault must take only its CN. A CSR asking for
// a CA certificate, server or code-signing use, certificate-signing key
// usage, other subject attributes (O, OU, serialNumber, a second CN), or
// SANs of any type gets none of them; ttl is capped by the role.
func TestReview12bCSRExtensionsNotCopied(t *testing.T) {
	setupPKI(t)
	dir := certPolicies(t)
	if code, _, stderr := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
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

// TestReview12bOtherSignPaths: the profile's policy reaches signing at
// <mount>/sign/<profile> only: the issuer-scoped path of the same role,
// sign-verbatim, issue, another profile's role, odd spellings of the
// path, and request fields smuggled in the query string are refused.
func TestReview12bOtherSignPaths(t *testing.T) {
	setupPKI(t)
	dir := certPolicies(t)
	if code, _, stderr := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
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

// TestReview12bServerNameAlias pins a documented limit
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
func TestReview12bServerNameAlias(t *testing.T) {
	setupPKI(t)
	ctx := context.Background()
	dir := certPolicies(t)
	if code, _, stderr := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
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
