package apiclient

import (
	"context"
	"net/http"
	"testing"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
)

// TestClientSpeaksHTTP1: a Vault (or a load balancer before it) that
// offers HTTP/2 gets HTTP/1.1 from the one client factory of alilogin
// and the broker, so that GODEBUG=http2debug=1 has no X-Vault-Token
// header to print.
func TestClientSpeaksHTTP1(t *testing.T) {
	srv := hostile.NewTLSServerHTTP2(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	c, err := For(Vault, srv.URL, TLS{CACert: caFile(t, srv)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WithToken(secret.New(testToken)).Do(context.Background(), "GET", "/v1/auth/token/lookup-self", nil, nil); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Proto != "HTTP/1.1" {
		t.Errorf("the server got %+v, want one HTTP/1.1 request", reqs)
	}
}
