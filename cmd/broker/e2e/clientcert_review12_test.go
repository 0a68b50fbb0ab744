package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"testing"

	"github.com/alisw/alilogin/internal/apiclient"
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
// hers, alt_names, other SANs, or a CSR carrying extra names.
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
		{"upper-case variant", "ALICE", nil, nil},
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
