package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/testutil"
)

// hostileOP is a provider whose token and revocation endpoints, on its
// own origin (as the client requires), are served by handler h and
// recorded in endpoints, and whose own discovery document can be replaced
// by disco.
func hostileOP(t *testing.T, h http.Handler, disco http.Handler) (issuer string, endpoints *hostile.Recorder) {
	t.Helper()
	endpoints = &hostile.Recorder{}
	mux := http.NewServeMux()
	op := hostile.NewServer(mux)
	t.Cleanup(op.Close)
	if disco == nil {
		disco = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"issuer": op.URL, "authorization_endpoint": op.URL + "/auth", "token_endpoint": op.URL + "/token",
				"revocation_endpoint": op.URL + "/revoke", "jwks_uri": op.URL + "/jwks",
				"id_token_signing_alg_values_supported": []string{"RS256"}, "response_types_supported": []string{"code"},
				"subject_types_supported": []string{"public"},
			})
		})
	}
	mux.Handle("GET /.well-known/openid-configuration", disco)
	mux.Handle("/token", endpoints.Wrap(h))
	mux.Handle("/revoke", endpoints.Wrap(h))
	return op.URL, endpoints
}

// A token or revocation endpoint that redirects to another origin gets
// the refresh token, but the other origin never does: the redirect is an
// error that names both addresses.
func TestSSORedirectElsewhereRefused(t *testing.T) {
	var rt = secret.New("rt-very-secret-refresh-token")
	for _, tc := range []struct {
		name string
		code int
		call func(ctx context.Context, c *Client) error
	}{
		{"refresh 307", http.StatusTemporaryRedirect, func(ctx context.Context, c *Client) error { _, err := c.Refresh(ctx, rt); return err }},
		{"refresh 308", http.StatusPermanentRedirect, func(ctx context.Context, c *Client) error { _, err := c.Refresh(ctx, rt); return err }},
		{"revoke 307", http.StatusTemporaryRedirect, func(ctx context.Context, c *Client) error { return c.Revoke(ctx, rt) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := hostile.NewServer(hostile.ErrorBody(http.StatusOK, "application/json", `{"access_token":"a","token_type":"Bearer"}`))
			t.Cleanup(target.Close)
			issuer, front := hostileOP(t, hostile.Redirect(tc.code, target.URL), nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := New(ctx, Config{Issuer: issuer, ClientID: "cli"})
			if err != nil {
				t.Fatal(err)
			}
			err = tc.call(ctx, c)
			for _, r := range target.Requests() {
				t.Errorf("the other origin got %s %s with body %q", r.Method, r.Path, r.Body)
			}
			if len(front.Requests()) == 0 { // x/oauth2 may try twice (client authentication styles)
				t.Error("the endpoint got no request")
			}
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			for _, want := range []string{testutil.Origin(t, issuer), testutil.Origin(t, target.URL)} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not name %s: %v", want, err)
				}
			}
			if strings.Contains(err.Error(), rt.Reveal()) {
				t.Errorf("error shows the refresh token: %v", err)
			}
		})
	}
}

// A discovery document behind a redirect to another origin is not read.
func TestSSODiscoveryRedirectElsewhereRefused(t *testing.T) {
	target := hostile.NewServer(hostile.ErrorBody(http.StatusOK, "application/json", `{}`))
	t.Cleanup(target.Close)
	issuer, _ := hostileOP(t, http.NotFoundHandler(), hostile.Redirect(http.StatusFound, target.URL))
	_, err := New(context.Background(), Config{Issuer: issuer, ClientID: "cli"})
	if n := len(target.Requests()); n != 0 {
		t.Errorf("the other origin got %d requests", n)
	}
	if err == nil || !strings.Contains(err.Error(), testutil.Origin(t, target.URL)) || !strings.Contains(err.Error(), "refused a redirect") {
		t.Errorf("error: %v", err)
	}
}

// Answers of the SSO are bounded at 1 MiB, with an error that says so:
// the discovery document and the token endpoint's answer.
func TestSSOAnswerTooLarge(t *testing.T) {
	t.Run("discovery document", func(t *testing.T) {
		h := &hostile.Huge{ContentType: "application/json", Prefix: `{"issuer":"`, Size: 400 << 20}
		issuer, _ := hostileOP(t, http.NotFoundHandler(), h)
		_, err := New(context.Background(), Config{Issuer: issuer, ClientID: "cli"})
		if err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
			t.Fatalf("error: %v", err)
		}
		if h.Sent() > 16<<20 {
			t.Errorf("the client read on: %d bytes sent", h.Sent())
		}
	})
	t.Run("token endpoint, endless", func(t *testing.T) {
		h := &hostile.Huge{ContentType: "application/json", Prefix: `{"access_token":"`, Size: -1}
		issuer, _ := hostileOP(t, h, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err := newAndRefresh(ctx, Config{Issuer: issuer, ClientID: "cli"}, secret.New("rt-x"))
		if err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
			t.Fatalf("error: %v", err)
		}
	})
}
