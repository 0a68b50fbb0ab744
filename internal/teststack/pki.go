package teststack

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// TestPKI is a CA made for one test, with a server certificate for
// 127.0.0.1 and a client certificate. All fields are PEM file paths.
type TestPKI struct {
	CA                    string
	ServerCert, ServerKey string
	ClientCert, ClientKey string
	// OtherClientCert/Key are signed by a different CA: a server must refuse them.
	OtherClientCert, OtherClientKey string
}

// NewTestPKI writes a fresh CA and certificates into dir.
func NewTestPKI(dir string) (*TestPKI, error) {
	p := &TestPKI{
		CA:              filepath.Join(dir, "ca.pem"),
		ServerCert:      filepath.Join(dir, "server.pem"),
		ServerKey:       filepath.Join(dir, "server-key.pem"),
		ClientCert:      filepath.Join(dir, "client.pem"),
		ClientKey:       filepath.Join(dir, "client-key.pem"),
		OtherClientCert: filepath.Join(dir, "other-client.pem"),
		OtherClientKey:  filepath.Join(dir, "other-client-key.pem"),
	}
	ca, caKey, err := newCA("alilogin test CA")
	if err != nil {
		return nil, err
	}
	other, otherKey, err := newCA("unrelated CA")
	if err != nil {
		return nil, err
	}
	if err := writePEM(p.CA, "CERTIFICATE", ca.Raw); err != nil {
		return nil, err
	}
	leaf := func(cn string, usage x509.ExtKeyUsage, ips []net.IP, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, certPath, keyPath string) error {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(time.Now().UnixNano()),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  ips,
			DNSNames:     []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			return err
		}
		kder, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return err
		}
		if err := writePEM(certPath, "CERTIFICATE", der); err != nil {
			return err
		}
		return writePEM(keyPath, "EC PRIVATE KEY", kder)
	}
	lo := []net.IP{net.ParseIP("127.0.0.1")}
	if err := leaf("127.0.0.1", x509.ExtKeyUsageServerAuth, lo, ca, caKey, p.ServerCert, p.ServerKey); err != nil {
		return nil, err
	}
	if err := leaf("alice-engineer", x509.ExtKeyUsageClientAuth, nil, ca, caKey, p.ClientCert, p.ClientKey); err != nil {
		return nil, err
	}
	if err := leaf("intruder", x509.ExtKeyUsageClientAuth, nil, other, otherKey, p.OtherClientCert, p.OtherClientKey); err != nil {
		return nil, err
	}
	return p, nil
}

func newCA(cn string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	c, err := x509.ParseCertificate(der)
	return c, key, err
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}
