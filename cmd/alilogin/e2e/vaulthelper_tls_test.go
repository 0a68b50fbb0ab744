package e2e

// End-to-end tests of how the vault token helper treats what changes
// the vault CLI's check of the Vault's certificate, and the spelling of
// the Vault's address: a man in the middle at the login's Vault address
// (a TLS server that answers like a Vault) must never receive the token.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/teststack"
)

// testCA is a certificate authority of a test, and the PEM of its
// certificate.
type testCA struct {
	pem  []byte
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, cn string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), cert: c, key: key}
}

// issue is a server certificate of ca for dnsNames and ips.
func (ca *testCA) issue(t *testing.T, dnsNames []string, ips []net.IP) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "leaf"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(24 * time.Hour), DNSNames: dnsNames, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// mitmVault is a TLS server on 127.0.0.1 with cert, answering like a
// Vault's token lookup, that records what it gets.
func mitmVault(t *testing.T, cert tls.Certificate) *hostile.Server {
	t.Helper()
	s := &hostile.Server{}
	s.Server = httptest.NewUnstartedServer(s.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{"id":"x","policies":["default"],"ttl":3600}}`))
	})))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// bindVaultTo makes u's login (a real Vault token, valid for an hour) one
// made with VAULT_ADDR=addr, and sets that VAULT_ADDR: whatever is at
// addr is, for alilogin, the login's Vault.
func bindVaultTo(t *testing.T, u *user, profile, addr string) {
	t.Helper()
	rec, err := getRecord(t, u, profile)
	if err != nil || rec.Vault == nil {
		t.Fatalf("record: %v", err)
	}
	c, err := check.Canonical(addr)
	if err != nil {
		t.Fatal(err)
	}
	rec.VaultAddr = c
	rec.Vault.ExpiresAt = time.Now().Add(time.Hour)
	putRecord(t, u, rec)
	u.env["VAULT_ADDR"] = addr
}

// writeTestFile writes data to dir/name, 0600.
func writeTestFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// withEnv is a copy of u with extra variables set.
func withEnv(u *user, extra map[string]string) *user {
	o := *u
	o.env = map[string]string{}
	for k, v := range u.env {
		o.env[k] = v
	}
	for k, v := range extra {
		o.env[k] = v
	}
	return &o
}

// tokenReached reports whether one of reqs carried tok as X-Vault-Token.
func tokenReached(reqs []hostile.Request, tok string) bool {
	for _, r := range reqs {
		if r.Header.Get("X-Vault-Token") == tok {
			return true
		}
	}
	return false
}

// TestVaultTokenHelperRefusesTLSOverrideFlags: the login's Vault is
// checked against the CA "public" (VAULT_CACERT). A man in the middle at
// the Vault's address with a certificate of that CA for another name, or
// one of its own CA for the address, gets no token from the helper when
// the vault CLI's command line weakens the check (-tls-skip-verify,
// -tls-server-name, -ca-cert) or runs `vault agent` from a configuration
// file that turns it off (tls_skip_verify). The controls: with nothing
// changed, the CLI refuses the man in the middle by itself.
func TestVaultTokenHelperRefusesTLSOverrideFlags(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	u, profile, tok := tokenHelperUser(t, ctx, "vthtls-users")
	dir := t.TempDir()
	public, attacker := newTestCA(t, "public CA"), newTestCA(t, "attacker CA")
	u.env["VAULT_CACERT"] = writeTestFile(t, dir, "public.pem", public.pem)
	attackerCA := writeTestFile(t, dir, "attacker.pem", attacker.pem)
	u.env["PATH"] = teststack.BinDir() + ":" + os.Getenv("PATH")

	// A certificate of the public CA, for evil.example only.
	m1 := mitmVault(t, public.issue(t, []string{"evil.example"}, nil))
	bindVaultTo(t, u, profile, m1.URL)
	agentCfg := writeTestFile(t, dir, "agent.hcl", []byte("vault {\n  tls_skip_verify = true\n}\nlistener \"tcp\" {\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n}\n"))
	for _, args := range [][]string{
		{"token", "lookup"},
		{"token", "lookup", "-tls-skip-verify"},
		{"token", "lookup", "--tls-skip-verify=true"},
		{"token", "lookup", "-tls-server-name=evil.example"},
		{"token", "lookup", "-tls-server-name", "evil.example"},
		{"agent", "-config=" + agentCfg},
	} {
		t.Run("name/"+strings.Join(args, " "), func(t *testing.T) {
			before := len(m1.Requests())
			if args[0] == "agent" {
				runVaultAgent(t, u, args)
			} else {
				_, _, _ = vaultCLI(t, u, "", args...)
			}
			if tokenReached(m1.Requests()[before:], tok) {
				t.Errorf("`vault %s`: the man in the middle at the Vault's address got the token", strings.Join(args, " "))
			}
		})
	}

	// A certificate of the attacker's CA, for 127.0.0.1.
	m2 := mitmVault(t, attacker.issue(t, nil, []net.IP{net.ParseIP("127.0.0.1")}))
	bindVaultTo(t, u, profile, m2.URL)
	for _, args := range [][]string{
		{"token", "lookup"},
		{"token", "lookup", "-ca-cert=" + attackerCA},
		{"token", "lookup", "-ca-cert", attackerCA},
		{"token", "lookup", "-ca-path=" + dir},
	} {
		t.Run("ca/"+strings.Join(args, " "), func(t *testing.T) {
			before := len(m2.Requests())
			_, _, _ = vaultCLI(t, u, "", args...)
			if tokenReached(m2.Requests()[before:], tok) {
				t.Errorf("`vault %s`: the man in the middle at the Vault's address got the token", strings.Join(args, " "))
			}
		})
	}
}

// runVaultAgent runs `vault args...` (an agent) as u until it has asked
// the token helper for a token (its first request to the Vault is
// made with what the helper gave) and then ended or printed that it has
// started; at most 30 s.
func runVaultAgent(t *testing.T, u *user, args []string) {
	t.Helper()
	vault, err := teststack.Bin("vault")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, vault, args...)
	for k, v := range u.env {
		if k != "VAULT_TOKEN" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var out strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(out.String(), "Vault Agent started") {
		n, err := pr.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	pr.Close()
	t.Logf("vault agent:\n%s", out.String())
}

// TestVaultTokenHelperRefusesTrailingDotAddress: for a login made with
// http://localhost:PORT, the helper gives no token to a vault CLI whose
// VAULT_ADDR is http://localhost.:PORT: its resolver may ask DNS for
// "localhost." (a fully qualified name /etc/hosts does not list), and
// reach another host. The control: the login's own spelling is served.
func TestVaultTokenHelperRefusesTrailingDotAddress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile, tok := tokenHelperUser(t, ctx, "vthdot-users")
	port := stack.Vault.Addr[strings.LastIndex(stack.Vault.Addr, ":")+1:]
	bindVaultTo(t, u, profile, "http://localhost:"+port)
	if out, errText, _ := vaultCLI(t, u, "", "print", "token"); strings.TrimSpace(out) != tok {
		t.Fatalf("control: the helper did not serve VAULT_ADDR=http://localhost:%s: %s", port, errText)
	}
	for _, addr := range []string{"http://localhost.:" + port, "http://LOCALHOST.:" + port + "/"} {
		if out, _, _ := vaultCLI(t, withEnv(u, map[string]string{"VAULT_ADDR": addr}), "", "print", "token"); strings.TrimSpace(out) == tok {
			t.Errorf("the helper served VAULT_ADDR=%s for the login of http://localhost:%s", addr, port)
		}
	}
}
