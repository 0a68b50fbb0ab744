package oidc

// Review 9a (network and login side): attacks that still work after the
// fixes of issue 9. Each test fails on the reviewed code.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
)

// TestReviewDiscoveryErrorBodyClean: an SSO whose discovery endpoint
// answers 500 with escape sequences in the body. go-oidc quotes the body
// raw in its error ("%s: %s", status, body) and ssoError passes it on
// unchanged; `alilogin login`/`token`/`logout` print it with
// "alilogin: %v" on stderr, so the terminal acts on it (trust rule: "text
// from a server is data: stripped of control characters before a
// terminal"; issue 9 item 5).
func TestReviewDiscoveryErrorBodyClean(t *testing.T) {
	body := "maintenance" + escTitle + escClear + "\r\nalilogin: logged in as admin" + escC1 + escBidi
	issuer, _ := hostileOP(t, http.NotFoundHandler(), hostile.ErrorBody(http.StatusInternalServerError, "text/plain", body))
	_, err := New(context.Background(), Config{Issuer: issuer, ClientID: "cli"})
	if err == nil {
		t.Fatal("no error")
	}
	noControls(t, "the discovery error", err.Error())
}

// TestReviewRevokeMaskBeforeCut: the revocation endpoint's error body is
// cut at 4096 bytes (io.LimitReader) before the refresh token is masked,
// so a token that straddles the cut reaches the error (and the terminal,
// a CI log) in part: issue 9 item 12, "mask, then cut", is done for
// Vault/Nomad/Consul bodies (apiclient) but not here.
func TestReviewRevokeMaskBeforeCut(t *testing.T) {
	rt := secret.New("rt-" + strings.Repeat("S", 60) + "-refresh-token-tail")
	half := len(rt.Reveal()) / 2
	body := strings.Repeat("x", 4096-half) + rt.Reveal() + " is not a valid token"
	p := hostile.NewOIDCProvider(hostile.OIDCOptions{RevokeError: body})
	c := hostileClient(t, p)
	err := c.Revoke(context.Background(), rt)
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), rt.Reveal()[:half]) {
		t.Errorf("the revocation error shows the first %d characters of the refresh token: ...%s",
			half, err.Error()[max(0, len(err.Error())-80):])
	}
}

// tlsOP is a provider over TLS whose discovery document names token and
// revocation endpoints on a plain-HTTP server (recorded).
func tlsOP(t *testing.T) (issuer string, hc *http.Client, plain *hostile.Server) {
	t.Helper()
	plain = hostile.NewServer(hostile.ErrorBody(http.StatusBadRequest, "application/json", `{"error":"invalid_grant"}`))
	t.Cleanup(plain.Close)
	mux := http.NewServeMux()
	op := hostile.NewTLSServer(mux)
	t.Cleanup(op.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": op.URL, "authorization_endpoint": op.URL + "/auth",
			// The same SSO's document, served over https, sends the
			// refresh token over plain http.
			"token_endpoint": plain.URL + "/token", "revocation_endpoint": plain.URL + "/revoke",
			"jwks_uri": op.URL + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
		})
	})
	return op.URL, op.Client(), plain
}

// TestReviewRefreshTokenNotDowngradedByDiscovery: an https issuer whose
// discovery document (the same issuer; a changed or tampered document)
// names an http:// token endpoint and revocation endpoint. The refresh
// token is then sent in clear: a redirect from https to http is refused
// (safehttp), but the discovery document does the same without a
// redirect, and nothing checks the scheme (or the origin) of the
// endpoints it names. Trust rule: "No redirect, no changed configuration
// and no discovery document moves a secret elsewhere."
func TestReviewRefreshTokenNotDowngradedByDiscovery(t *testing.T) {
	rt := secret.New("rt-sent-in-clear")
	for _, tc := range []struct {
		name string
		call func(ctx context.Context, c *Client) error
	}{
		{"refresh", func(ctx context.Context, c *Client) error { _, err := c.Refresh(ctx, rt); return err }},
		{"revoke (logout)", func(ctx context.Context, c *Client) error { return c.Revoke(ctx, rt) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			issuer, hc, plain := tlsOP(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := New(ctx, Config{Issuer: issuer, ClientID: "cli", HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			_ = tc.call(ctx, c)
			for _, r := range plain.Requests() {
				if strings.Contains(string(r.Body), rt.Reveal()) {
					t.Errorf("the refresh token of the https issuer %s went in clear to %s%s", issuer, plain.URL, r.Path)
				}
			}
		})
	}
}

// TestReviewAuthEndpointScheme: the discovery document's
// authorization_endpoint is handed to the system browser (xdg-open,
// open, rundll32) whatever its scheme: file:, a custom URL handler
// (ms-settings:, vscode:, ...), or plain http to a non-loopback host,
// where the user then types the SSO password. Only https (and http on
// loopback, as for configured addresses) should be opened.
func TestReviewAuthEndpointScheme(t *testing.T) {
	for _, ep := range []string{"file:///etc/passwd", "vscode://evil/x", "http://sso.example/auth"} {
		p := hostile.NewOIDCProvider(hostile.OIDCOptions{Discovery: func(doc map[string]any) { doc["authorization_endpoint"] = ep }})
		c := hostileClient(t, p)
		urls := make(urlCatcher, 1)
		_, _ = c.AuthCode(context.Background(), AuthCodeOptions{Listen: "127.0.0.1:0", Browser: urls, Timeout: 200 * time.Millisecond})
		select {
		case u := <-urls:
			t.Errorf("the browser was asked to open %s", u)
		default:
		}
	}
}
