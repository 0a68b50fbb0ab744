package discovery

// Review 9a: the reason phrase of a broker's status line reaches the
// terminal raw.

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawServer answers every connection with head (a status line and
// headers) and an empty body.
func rawServer(t *testing.T, head string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				_, _ = c.Write([]byte(head))
			}()
		}
	}()
	return "http://" + l.Addr().String()
}

// TestFetchStatusClean: a broker (or anything at its address)
// answering `HTTP/1.1 503 <escape sequences>`: Go keeps the reason phrase
// as it came, and Fetch quotes resp.Status in its error, which `alilogin
// setup --broker` and every command that reads the document print on
// stderr.
func TestFetchStatusClean(t *testing.T) {
	base := rawServer(t, "HTTP/1.1 503 down\x1b]0;pwned\x07\x1b[2J\u009b31m\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	_, err := Fetch(context.Background(), nil, base)
	if err == nil {
		t.Fatal("no error")
	}
	for _, r := range err.Error() {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			t.Fatalf("the error holds %U: %q", r, err.Error())
		}
	}
	if !strings.Contains(err.Error(), "503") {
		t.Errorf("error: %v", err)
	}
}

// TestFetchTLSErrorClean: a man in the middle in front of the
// broker answers with a certificate whose DNS SAN carries escape
// sequences; Go's x509 error quotes it raw and Fetch wraps it uncleaned
// ("could not reach the broker at ...: %w"), which `alilogin setup
// --broker` and `alilogin login` (its "going on with the local
// configuration" warning) print on stderr.
func TestFetchTLSErrorClean(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"broker.example\x1b]0;pwned\x07\x1b[2J"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(http.NotFoundHandler())
	s.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	s.StartTLS()
	t.Cleanup(s.Close)
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	_, err = Fetch(context.Background(), nil, "https://localhost:"+port)
	if err == nil {
		t.Fatal("no error")
	}
	for _, r := range err.Error() {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			t.Fatalf("the error holds %U: %q", r, err.Error())
		}
	}
}
