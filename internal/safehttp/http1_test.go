package safehttp

import (
	"net/http"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
)

// TestClientsSpeakHTTP1: to a server that offers HTTP/2, the clients of
// NewClient and Harden (whatever *http.Transport the caller gave) speak
// HTTP/1.1, so that GODEBUG=http2debug=1 or 2 has no header or frame to
// print.
func TestClientsSpeakHTTP1(t *testing.T) {
	srv := hostile.NewTLSServerHTTP2(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	get := func(hc *http.Client) string {
		t.Helper()
		resp, err := hc.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Proto
	}
	if p := get(srv.Client()); p != "HTTP/2.0" {
		t.Fatalf("the test server's own client speaks %s: the server offers no HTTP/2", p)
	}
	for name, hc := range map[string]*http.Client{
		"Harden, bounded":   Harden(srv.Client(), MaxSSO),
		"Harden, unbounded": Harden(srv.Client(), 0),
		"Harden twice":      Harden(Harden(srv.Client(), MaxSSO), MaxSSO),
	} {
		if p := get(hc); p != "HTTP/1.1" {
			t.Errorf("%s: the client spoke %s", name, p)
		}
	}
	for _, r := range srv.Requests()[1:] {
		if r.Proto != "HTTP/1.1" {
			t.Errorf("the server got %s", r.Proto)
		}
	}
	for name, tr := range map[string]http.RoundTripper{
		"NewClient":    NewClient(time.Second, MaxSSO).Transport.(*limitTransport).next,
		"Harden(nil)":  Harden(nil, 0).Transport,
		"NewTransport": NewTransport(),
	} {
		ht, ok := tr.(*http.Transport)
		if !ok || ht.Protocols == nil || ht.Protocols.HTTP2() || !ht.Protocols.HTTP1() || ht.Proxy == nil {
			t.Errorf("%s: transport %T, protocols %v; want HTTP/1.1 only, proxy from the environment", name, tr, ht.Protocols)
		}
	}
}
