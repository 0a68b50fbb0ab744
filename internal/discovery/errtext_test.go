package discovery

// Review 9a: the reason phrase of a broker's status line reaches the
// terminal raw.

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/hostile"
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
	s, err := hostile.NewCertNameServer(http.NotFoundHandler(), "broker.example\x1b]0;pwned\x07\x1b[2J")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	_, err = Fetch(context.Background(), nil, s.LocalhostURL())
	if err == nil {
		t.Fatal("no error")
	}
	for _, r := range err.Error() {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			t.Fatalf("the error holds %U: %q", r, err.Error())
		}
	}
}
