package apiclient

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
)

// A server or proxy that echoes the request in its error body must not put
// the token or the ID token into the error message.
func TestErrorHidesEchoedSecrets(t *testing.T) {
	const (
		token = "hvs.CAESIJlU2VjcmV0VG9rZW4"
		jwt   = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl"
	)
	for _, tc := range []struct {
		name string
		body func(tok, req string) string
	}{
		{"vault json", func(tok, req string) string {
			return `{"errors":["permission denied for token ` + tok + ` and request ` + strings.ReplaceAll(req, `"`, `'`) + `"]}`
		}},
		{"plain text", func(tok, req string) string { return "bad request from " + tok + ": " + req }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				req, _ := io.ReadAll(r.Body)
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, tc.body(r.Header.Get("X-Vault-Token"), string(req)))
			}))
			defer srv.Close()
			c, err := New("Vault", srv.URL, "X-Vault-Token", TLS{}, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			err = c.WithToken(secret.New(token)).Do(context.Background(), http.MethodPost, "/v1/auth/jwt/login",
				map[string]string{"role": "ci", "jwt": jwt}, nil)
			if err == nil {
				t.Fatal("no error for a 400")
			}
			msg := err.Error()
			for _, s := range []string{token, jwt, "eyJzdWIiOiJhbGljZSJ9"} {
				if strings.Contains(msg, s) {
					t.Errorf("error message shows a secret %q: %s", s, msg)
				}
			}
			if !strings.Contains(msg, "role") || !strings.Contains(msg, secret.Redacted) {
				t.Errorf("error message lost its non-secret content: %s", msg)
			}
		})
	}
}

func TestScrubJWTs(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"no token here":           "no token here",
		"eyJ alone":               "eyJ alone",
		"a eyJx.y b":              "a eyJx.y b",
		"a eyJx.y.z b eyJ1.2.3":   "a [REDACTED] b [REDACTED]",
		"jwt=eyJh.eyJp.s-_x, end": "jwt=[REDACTED], end",
	} {
		if got := scrubJWTs(in); got != want {
			t.Errorf("scrubJWTs(%q) = %q, want %q", in, got, want)
		}
	}
}
