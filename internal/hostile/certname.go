package hostile

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"time"
)

// NewCertNameServer starts h over TLS with a self-signed certificate
// whose only name is dnsName: a man in the middle whose certificate carries escape
// sequences in its name (IA5String allows every byte below 0x80, ESC and
// BEL included; Go makes and parses such certificates), which Go's x509
// errors quote raw. A client that dials LocalhostURL fails the name
// check, and the error names dnsName. Close it with t.Cleanup(s.Close).
func NewCertNameServer(h http.Handler, dnsName string) (*Server, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{dnsName}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	s := &Server{}
	s.Server = httptest.NewUnstartedServer(s.Wrap(h))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	s.StartTLS()
	return s, nil
}

// LocalhostURL is the server's address as https://localhost:<port>: a
// name its certificate does not hold.
func (s *Server) LocalhostURL() string {
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	return "https://localhost:" + port
}
