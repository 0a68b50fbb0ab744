package oidc

// Review 9a, findings 2, 4 and 6: where the discovery document may send
// secrets and the browser, and what an SSO's error may show.

import (
	"context"
	"encoding/json"
	"github.com/alisw/alilogin/internal/termtext"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
)

// TestCheckEndpoint: an endpoint is accepted only on the issuer's origin
// (scheme, host, port; the default port made explicit), and plain http://
// only for an http:// issuer on loopback or with the insecure_http opt-in.
func TestCheckEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name, issuer, ep string
		insecure         bool
		want             string // part of the error; "" for none
	}{
		{"keycloak", "https://auth.cern.ch/auth/realms/cern", "https://auth.cern.ch/auth/realms/cern/protocol/openid-connect/token", false, ""},
		{"default port", "https://auth.cern.ch/auth/realms/cern", "https://AUTH.cern.ch:443/token", false, ""},
		{"query", "https://sso.example", "https://sso.example/token?realm=x", false, ""},
		{"hydra on loopback", "http://127.0.0.1:4444/", "http://127.0.0.1:4444/oauth2/token", false, ""},
		{"localhost", "http://localhost:4444", "http://localhost:4444/token", false, ""},
		{"http issuer, opt-in", "http://sso.example", "http://sso.example/token", true, ""},
		{"http issuer, no opt-in", "http://sso.example", "http://sso.example/token", false, "plain http://"},
		{"https issuer, http endpoint", "https://sso.example", "http://sso.example/token", false, "plain http://"},
		{"https issuer, http endpoint, opt-in", "https://sso.example", "http://sso.example/token", true, "plain http://"},
		{"https issuer, http loopback endpoint", "https://127.0.0.1:8443", "http://127.0.0.1:8443/token", false, "plain http://"},
		{"other host", "https://sso.example", "https://evil.example/token", false, "not on the issuer's origin https://sso.example:443"},
		{"sub-domain", "https://sso.example", "https://cdn.sso.example/token", false, "not on the issuer's origin"},
		{"other port", "https://sso.example", "https://sso.example:8443/token", false, "not on the issuer's origin"},
		{"other host, opt-in", "http://sso.example", "http://evil.example/token", true, "not on the issuer's origin"},
		{"user info", "https://sso.example", "https://u:p@sso.example/token", false, "user name or password"},
		{"fragment", "https://sso.example", "https://sso.example/token#x", false, "fragment"},
		{"file", "https://sso.example", "file:///etc/passwd", false, "want an https:// URL"},
		{"custom handler", "https://sso.example", "vscode://evil/x", false, "want an https:// URL"},
		{"relative", "https://sso.example", "/token", false, "want an https:// URL"},
		{"no host", "https://sso.example", "https:///token", false, "no host"},
		{"control characters", "https://sso.example", "https://sso.example/token" + hostile.EscTitle, false, "not a URL"},
		{"empty", "https://sso.example", "", false, "names no token_endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Client{cfg: Config{Issuer: tc.issuer, InsecureHTTP: tc.insecure}}
			err := c.checkEndpoint("token_endpoint", tc.ep)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %q", tc.ep)
			}
			for _, want := range []string{tc.want, "token_endpoint", tc.issuer} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q: %v", want, err)
				}
			}
			noControls(t, "the error", err.Error())
		})
	}
}

// TestDiscoveryEndpointsOnIssuerOrigin: a discovery document whose token,
// revocation or device authorization endpoint, or key set, is on another
// origin is refused by New with an error naming the endpoint and the
// issuer; nothing is sent there.
func TestDiscoveryEndpointsOnIssuerOrigin(t *testing.T) {
	for _, field := range []string{"token_endpoint", "revocation_endpoint", "device_authorization_endpoint", "jwks_uri"} {
		t.Run(field, func(t *testing.T) {
			elsewhere := hostile.NewServer(http.NotFoundHandler())
			t.Cleanup(elsewhere.Close)
			p := hostile.NewOIDCProvider(hostile.OIDCOptions{Discovery: func(doc map[string]any) { doc[field] = elsewhere.URL + "/x" }})
			t.Cleanup(p.Close)
			_, err := New(context.Background(), Config{Issuer: p.Issuer, ClientID: "alilogin"})
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range []string{field, p.Issuer, elsewhere.URL} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not name %s: %v", want, err)
				}
			}
			if n := len(elsewhere.Requests()); n != 0 {
				t.Errorf("the other origin got %d requests", n)
			}
		})
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
	// The same SSO's document, served over https, sends the refresh
	// token over plain http.
	serveDiscovery(mux, op.URL, map[string]any{"token_endpoint": plain.URL + "/token", "revocation_endpoint": plain.URL + "/revoke"})
	return op.URL, op.Client(), plain
}

// TestRefreshTokenNotDowngradedByDiscovery (review 9a, finding 2): an
// https issuer whose discovery document (the same issuer; a changed or
// tampered document) names an http:// token endpoint and revocation
// endpoint. A redirect from https to http is refused (safehttp); the
// document doing the same without a redirect is refused by New, with an
// error naming the endpoint and the issuer, and the refresh token never
// goes in clear. Trust rule: "No redirect, no changed configuration and
// no discovery document moves a secret elsewhere."
func TestRefreshTokenNotDowngradedByDiscovery(t *testing.T) {
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
			if err == nil {
				_ = tc.call(ctx, c)
				t.Error("New accepted an https issuer with http:// endpoints")
			} else {
				for _, want := range []string{"token_endpoint", issuer, plain.URL, "plain http://"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error does not say %s: %v", want, err)
					}
				}
			}
			for _, r := range plain.Requests() {
				if strings.Contains(string(r.Body), rt.Reveal()) {
					t.Errorf("the refresh token of the https issuer %s went in clear to %s%s", issuer, plain.URL, r.Path)
				}
			}
		})
	}
}

// TestAuthEndpointScheme (review 9a, finding 4): the discovery document's
// authorization_endpoint is handed to the system browser (xdg-open,
// open, rundll32) only when it is on the issuer's origin: not file:, not
// a custom URL handler (ms-settings:, vscode:, ...), not plain http to a
// host that is not loopback, where the user would type the SSO password.
// AuthCode refuses it, naming it, before it listens or opens anything.
func TestAuthEndpointScheme(t *testing.T) {
	for _, ep := range []string{"file:///etc/passwd", "vscode://evil/x", "http://sso.example/auth", "https://127.0.0.1:1/auth"} {
		p := hostile.NewOIDCProvider(hostile.OIDCOptions{Discovery: func(doc map[string]any) { doc["authorization_endpoint"] = ep }})
		c := hostileClient(t, p)
		urls := make(urlCatcher, 1)
		var stderr lockedBuffer
		_, err := c.AuthCode(context.Background(), AuthCodeOptions{Listen: "127.0.0.1:0", Browser: urls, Stderr: &stderr, Timeout: 200 * time.Millisecond})
		select {
		case u := <-urls:
			t.Errorf("the browser was asked to open %s", u)
		default:
		}
		if err == nil || !strings.Contains(err.Error(), "authorization_endpoint") || !strings.Contains(err.Error(), ep) {
			t.Errorf("%s: error %v", ep, err)
		}
		if strings.Contains(stderr.String(), ep) {
			t.Errorf("%s was printed for the user to open:\n%s", ep, stderr.String())
		}
	}
}

// TestRevokeMaskBeforeCut (review 9a, finding 6): the revocation
// endpoint's error body is read whole (up to the client's bound), the
// refresh token masked, then the text cut; a token that straddles the
// cut does not reach the error in part.
func TestRevokeMaskBeforeCut(t *testing.T) {
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
	if len(err.Error()) > maxErrorText+512 {
		t.Errorf("the revocation error is %d bytes long", len(err.Error()))
	}
}

// TestCut: cut keeps whole characters and marks the cut.
func TestCut(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdef", 3, "abc [...]"},
		{"ab\u00e9cd", 3, "ab\u00e9 [...]"}, // é is one character of 2 bytes
		{"\u00e9\u00e9", 1, "\u00e9 [...]"},
	} {
		if got := termtext.Cut(tc.s, tc.n, " [...]"); got != tc.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

// TestExchangeErrorMasksCodeAndVerifier (review 9a, finding 6): an SSO
// that quotes the authorization code and the PKCE verifier back in its
// error_description does not get them into the error (a terminal, a CI
// log).
func TestExchangeErrorMasksCodeAndVerifier(t *testing.T) {
	const code = "code-quoted-back-by-the-sso"
	var verifier string
	mux := http.NewServeMux()
	op := hostile.NewServer(mux)
	t.Cleanup(op.Close)
	serveDiscovery(mux, op.URL, nil)
	mux.HandleFunc("GET /auth", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("redirect_uri")+"?code="+code+"&state="+r.URL.Query().Get("state"), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant",
			"error_description": "code " + r.PostForm.Get("code") + " does not match verifier " + r.PostForm.Get("code_verifier")})
	})
	c, err := New(context.Background(), Config{Issuer: op.URL, ClientID: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	page := make(chan string, 1)
	_, err = c.AuthCode(context.Background(), AuthCodeOptions{Listen: "127.0.0.1:0", Browser: clickThrough{t, page}, Timeout: 10 * time.Second})
	<-page
	if err == nil {
		t.Fatal("no error")
	}
	for _, r := range op.Requests() {
		if r.Path == "/token" {
			for _, kv := range strings.Split(string(r.Body), "&") {
				if v, ok := strings.CutPrefix(kv, "code_verifier="); ok {
					verifier = v
				}
			}
		}
	}
	if verifier == "" {
		t.Fatal("the token endpoint got no code_verifier")
	}
	for name, s := range map[string]string{"code": code, "verifier": verifier} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("the error shows the %s: %v", name, err)
		}
	}
	if !strings.Contains(err.Error(), "invalid_grant: code "+secret.Redacted) {
		t.Errorf("error: %v", err)
	}
}
