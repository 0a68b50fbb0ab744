package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/alisw/alilogin/internal/agent/guard"
	"github.com/alisw/alilogin/internal/store"
)

type decisionKey struct{}

// guardProxy is the smallest proxy that uses the guard as the agent
// does: Check before forwarding (a refusal answered with its status and
// text), the client's token headers replaced by the real token, and
// RewriteResponse in ModifyResponse. It stands in for internal/agent's
// proxy, which has its own end-to-end tests.
func guardProxy(t *testing.T, server store.Kind, target, header, token string, rules guard.Rules) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			for _, h := range []string{"X-Vault-Token", "X-Nomad-Token", "X-Consul-Token", "Authorization"} {
				pr.Out.Header.Del(h)
			}
			pr.Out.Header.Set(header, token)
		},
		ModifyResponse: func(resp *http.Response) error {
			return resp.Request.Context().Value(decisionKey{}).(guard.Decision).RewriteResponse(resp)
		},
		FlushInterval: -1,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := guard.Check(server, r, rules)
		if d.Refuse != "" {
			http.Error(w, d.Refuse, d.Status())
			return
		}
		rp.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), decisionKey{}, d)))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
