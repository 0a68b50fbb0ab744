package agent

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/secret"
)

func testClientCert(t *testing.T) *clientcert.Cert {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	tpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "alice"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	return &clientcert.Cert{CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		Key: secret.New(string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}))), NotAfter: now.Add(time.Hour), IssuedAt: now}
}

// TestTokenAndClientCertificateGoOnlyToAServerTheConfiguredCAAndNameAccept:
// h1 does its own TLS handshake: to a server whose certificate the
// configured CA did not sign, or that is not the configured name, no
// request (no token) is sent and the login's client certificate is not
// presented; to the right server both are.
func TestTokenAndClientCertificateGoOnlyToAServerTheConfiguredCAAndNameAccept(t *testing.T) {
	var reqs, certs atomic.Int32
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs.Add(1)
		io.WriteString(w, "ok")
	}))
	s.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, VerifyConnection: func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) > 0 {
			certs.Add(1)
		}
		return nil
	}}
	s.StartTLS()
	defer s.Close()
	dir := t.TempDir()
	write := func(name string, s *httptest.Server) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rightCA := write("right.pem", s)
	// (every httptest server has the same certificate: another CA is
	// made here)
	wrongCA := filepath.Join(dir, "wrong.pem")
	if err := os.WriteFile(wrongCA, []byte(testClientCert(t).CertPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	port := s.URL[strings.LastIndex(s.URL, ":")+1:]
	cert := testClientCert(t)
	for _, c := range []struct {
		name, addr, ca string
		ok             bool
	}{
		{"another CA", s.URL, wrongCA, false},
		{"another name", "https://localhost:" + port, rightCA, false},
		{"the configured server", s.URL, rightCA, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			reqs.Store(0)
			certs.Store(0)
			ta := startAgent(t, Options{Loader: &fakeLoader{next: func(int) (*Creds, error) {
				cr := credsFor(c.addr, time.Now(), time.Hour)
				cr.Cert = cert
				for _, k := range Kinds {
					cr.Servers[k] = Upstream{Addr: c.addr, TLS: apiclient.TLS{CACert: c.ca}, RecordCert: true}
				}
				return cr, nil
			}}})
			g := ta.open(t)
			for range 3 {
				st, body := ta.do(t, Nomad, "/v1/jobs", func(r *http.Request) { r.Header.Set("X-Nomad-Token", g[Nomad]) })
				if c.ok && (st != 200 || body != "ok") || !c.ok && st != http.StatusBadGateway {
					t.Fatalf("%d %q", st, body)
				}
			}
			if _, isH1 := ta.a.profile("p").upstream(Nomad).tr.(*h1); !isH1 {
				t.Fatal("not h1")
			}
			if c.ok && (reqs.Load() != 3 || certs.Load() == 0) {
				t.Fatalf("the configured server got %d requests, %d client certificates", reqs.Load(), certs.Load())
			}
			if !c.ok && (reqs.Load() != 0 || certs.Load() != 0) {
				t.Fatalf("a server the configuration refuses got %d requests and %d client certificates", reqs.Load(), certs.Load())
			}
		})
	}
}
