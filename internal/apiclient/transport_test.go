package apiclient

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/testutil"
)

const testToken = "hvs.CAESIJlU2VjcmV0VG9rZW4xMjM0NTY3ODkw"

// caFile writes the certificate of an httptest TLS server to a PEM file,
// for TLS.CACert.
func caFile(t *testing.T, s *hostile.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A server at the configured address that redirects to another origin
// (another port of the same host, or plain http from https) must get no
// token header and no request body to the other origin: the redirect is
// an error that names both addresses.
func TestRedirectElsewhereRefused(t *testing.T) {
	for _, tc := range []struct {
		name         string
		code         int
		tls          bool
		server       string
		header       string
		method, path string
		body         any
	}{
		{"307 renew-self to another port", http.StatusTemporaryRedirect, false, "Vault", "X-Vault-Token", "POST", "/v1/auth/token/renew-self", map[string]string{"increment": "1h"}},
		{"308 jwt login to another port", http.StatusPermanentRedirect, false, "Vault", "X-Vault-Token", "POST", "/v1/auth/jwt/login", map[string]string{"role": "ci", "jwt": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"}},
		{"307 lookup-self to another port", http.StatusTemporaryRedirect, false, "Vault", "X-Vault-Token", "GET", "/v1/auth/token/lookup-self", nil},
		{"302 revoke-self to another port", http.StatusFound, false, "Vault", "X-Vault-Token", "POST", "/v1/auth/token/revoke-self", nil},
		{"307 nomad token to another port", http.StatusTemporaryRedirect, false, "Nomad", "X-Nomad-Token", "GET", "/v1/acl/token/self", nil},
		{"308 consul token to another port", http.StatusPermanentRedirect, false, "Consul", "X-Consul-Token", "PUT", "/v1/acl/policy", map[string]string{"Name": "p"}},
		{"307 https to http", http.StatusTemporaryRedirect, true, "Vault", "X-Vault-Token", "POST", "/v1/auth/jwt/login", map[string]string{"role": "ci", "jwt": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln"}},
		{"301 https to http", http.StatusMovedPermanently, true, "Vault", "X-Vault-Token", "GET", "/v1/auth/token/lookup-self", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := hostile.NewServer(hostile.ErrorBody(http.StatusOK, "application/json", `{"data":{}}`))
			t.Cleanup(target.Close)
			var front *hostile.Server
			var tlsc TLS
			if tc.tls {
				front = hostile.NewTLSRedirect(tc.code, target.URL)
				tlsc.CACert = caFile(t, front)
			} else {
				front = hostile.NewRedirect(tc.code, target.URL)
			}
			t.Cleanup(front.Close)
			c, err := New(tc.server, front.URL, tc.header, tlsc, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			err = c.WithToken(secret.New(testToken)).Do(context.Background(), tc.method, tc.path, tc.body, nil)
			if got := target.Requests(); len(got) != 0 {
				t.Fatalf("the other origin received %d request(s), the first with header %s=%q and body %q",
					len(got), tc.header, got[0].Header.Get(tc.header), got[0].Body)
			}
			if err == nil {
				t.Fatal("no error for a redirect to another origin")
			}
			msg := err.Error()
			t.Log(msg)
			for _, want := range []string{testutil.Origin(t, front.URL), testutil.Origin(t, target.URL), tc.server} {
				if !strings.Contains(msg, want) {
					t.Errorf("error does not name %s: %s", want, msg)
				}
			}
			if strings.Contains(msg, testToken) {
				t.Errorf("error shows the token: %s", msg)
			}
			if len(front.Requests()) != 1 {
				t.Errorf("the configured server got %d requests, want 1", len(front.Requests()))
			}
		})
	}
}

// A redirect within the configured origin is followed, with the token and,
// for 307/308, the body.
func TestRedirectSameOriginFollowed(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/v1/new", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("POST /v1/new", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Vault-Token") != testToken || !strings.Contains(string(b), `"role":"ci"`) {
			http.Error(w, "token or body missing", http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	srv := hostile.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := New("Vault", srv.URL, "X-Vault-Token", TLS{}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ OK bool }
	if err := c.WithToken(secret.New(testToken)).Do(context.Background(), "POST", "/v1/old", map[string]string{"role": "ci"}, &out); err != nil || !out.OK {
		t.Fatalf("same-origin redirect: %v, %+v", err, out)
	}
}

// An answer larger than MaxAnswer is a clear error, and the client stops
// reading soon after the bound instead of reading (or keeping) it all.
func TestAnswerTooLarge(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *hostile.Huge
	}{
		{"endless 200", &hostile.Huge{ContentType: "application/json", Prefix: `{"data":{"keys":["`, Size: -1}},
		{"announced 200", &hostile.Huge{ContentType: "application/json", Prefix: `{"data":"`, Size: MaxAnswer + 1, ContentLength: true}},
		{"endless 500", &hostile.Huge{Status: 500, ContentType: "text/plain", Size: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := hostile.NewServer(tc.h)
			t.Cleanup(srv.Close)
			c, err := New("Vault", srv.URL, "X-Vault-Token", TLS{}, 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var out json.RawMessage
			err = c.Do(context.Background(), "LIST", "/v1/auth/token/accessors", nil, &out)
			if err == nil || !strings.Contains(err.Error(), "larger than 32 MiB") || !strings.Contains(err.Error(), "Vault") {
				t.Fatalf("want an error naming the bound, got %v", err)
			}
			if len(err.Error()) > 1000 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
			c.HTTP.CloseIdleConnections()
			if sent := tc.h.Sent(); tc.h.Size < 0 && sent > MaxAnswer+8<<20 {
				t.Errorf("the client read on: the server sent %d bytes", sent)
			}
		})
	}
}

// Secrets are masked before the error text is cut: a token or an ID token
// that straddles the cut must not show in part either.
func TestErrorMaskedBeforeCut(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImNlcm5fcm9sZXMiOlsiYWRtaW4iXX0.c2lnbmF0dXJlLXZhbHVl"
	for _, tc := range []struct {
		name, body string
		part       string // a piece of a secret that must not show
	}{
		{"token across the cut", strings.Repeat("x", 490) + " " + testToken, testToken[:8]},
		{"jwt payload across the cut", strings.Repeat("x", 450) + " " + jwt, "eyJzdWIiOiJhbGljZSIs"},
		{"vault json token across the cut", `{"errors":["` + strings.Repeat("y", 495) + testToken + `"]}`, testToken[:8]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := hostile.NewServer(hostile.ErrorBody(http.StatusBadRequest, "text/plain", tc.body))
			t.Cleanup(srv.Close)
			c, err := New("Vault", srv.URL, "X-Vault-Token", TLS{}, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			err = c.WithToken(secret.New(testToken)).Do(context.Background(), "GET", "/v1/x", nil, nil)
			if err == nil {
				t.Fatal("no error for a 400")
			}
			if strings.Contains(err.Error(), tc.part) {
				t.Errorf("part of a secret shows: %s", err)
			}
			if len(err.Error()) > 700 {
				t.Errorf("error not cut: %d bytes", len(err.Error()))
			}
		})
	}
}

// Error bodies of Vault, Nomad and Consul reach errors (and so terminals)
// without terminal escape sequences.
func TestErrorBodyClean(t *testing.T) {
	for name, b := range hostile.EscapeBodies {
		t.Run(name, func(t *testing.T) {
			srv := hostile.NewServer(hostile.ErrorBody(http.StatusForbidden, b.ContentType, b.Body))
			t.Cleanup(srv.Close)
			c, err := New("Nomad", srv.URL, "X-Nomad-Token", TLS{}, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Do(context.Background(), "GET", "/v1/jobs", nil, nil)
			var ae *Error
			if err == nil || !errorsAs(err, &ae) {
				t.Fatalf("want an *Error, got %v", err)
			}
			for _, s := range append([]string{err.Error()}, ae.Errors...) {
				if strings.ContainsAny(s, "\x1b\x07\r\u009b\u202e") {
					t.Errorf("escape sequence in %q", s)
				}
				if !strings.Contains(s, "denied") {
					t.Errorf("lost the text: %q", s)
				}
			}
		})
	}
}

func errorsAs(err error, target **Error) bool { return errors.As(err, target) }
