package oidc

// Review 9a: a man in the middle writes on the terminal through a TLS
// error.

import (
	"context"
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
	"strings"
	"testing"
	"time"
)

// hostileCertServer is a TLS server whose certificate names, as its DNS
// SAN, text with escape sequences (IA5String allows every byte < 0x80,
// ESC and BEL included; Go parses and makes such certificates).
func hostileCertServer(t *testing.T) *httptest.Server {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"sso.example" + escTitle + escClear + "\r"}, IPAddresses: []net.IP{net.IPv6loopback}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(http.NotFoundHandler())
	s.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// TestSSOTLSErrorClean: anyone on the path to the SSO (the network
// adversary of the threat model; no SSO needed) answers with a
// certificate whose SAN carries escape sequences. Go's x509 HostnameError
// quotes the SANs raw ("certificate is valid for ..."), and ssoError
// passes the error on uncleaned: `alilogin login`, `token` (step 4) and
// `logout` print it on stderr. (apiclient cleans its transport errors;
// the SSO client does not.)
func TestSSOTLSErrorClean(t *testing.T) {
	s := hostileCertServer(t)
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	issuer := "https://localhost:" + port
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := New(ctx, Config{Issuer: issuer, ClientID: "cli"})
	if err == nil {
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), "x509") {
		t.Fatalf("want the certificate (x509) error, got: %v", err)
	}
	noControls(t, "the TLS error", err.Error())
}
