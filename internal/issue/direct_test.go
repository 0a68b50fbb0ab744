package issue

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// TestDirectLoginNeverShowsTheIDToken: a server that quotes the login's
// body in its refusal gets its text shown without the ID token; a token
// without an expiry is refused; the token's TTL is the server's.
func TestDirectLoginNeverShowsTheIDToken(t *testing.T) {
	const id = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	var answer string
	var status int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, strings.ReplaceAll(answer, "BODY", string(body)))
	}))
	defer srv.Close()
	c, err := apiclient.New("Nomad", srv.URL, "X-Nomad-Token", apiclient.TLS{}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

	status, answer = http.StatusBadRequest, "could not validate login: BODY"
	_, err = DirectLogin(context.Background(), c, store.Nomad, "alilogin-ci", secret.New(id), now)
	if err == nil || strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("refusal: %v", err)
	}

	status, answer = http.StatusOK, `{"AccessorID":"a","SecretID":"s-1"}`
	if _, err = DirectLogin(context.Background(), c, store.Nomad, "alilogin-ci", secret.New(id), now); err == nil || !strings.Contains(err.Error(), "without an expiry") {
		t.Errorf("a token without an expiry: %v", err)
	}

	answer = `{"AccessorID":"a","SecretID":"s-1","Policies":["ci-read"],"CreateTime":"2026-12-07T11:59:59Z","ExpirationTime":"2026-12-07T12:00:59Z"}`
	tok, err := DirectLogin(context.Background(), c, store.Nomad, "alilogin-ci", secret.New(id), now)
	if err != nil || !tok.Direct() || tok.TTL != time.Minute || !tok.ExpiresAt.Equal(now.Add(59*time.Second)) || tok.Policies[0] != "ci-read" || tok.LeaseID != "" {
		t.Errorf("token %+v, %v", tok, err)
	}
}
