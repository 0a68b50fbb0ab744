package issue

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/safehttp"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// electionVault answers the first request of each path with 503, as a
// Vault between leaders does, and the next ones with ok; it counts the
// requests of each path.
func electionVault(t *testing.T, ok map[string]string) (*apiclient.Client, func(path string) int) {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path]++
		n := seen[r.URL.Path]
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"errors":["no active Vault instance found"]}`))
			return
		}
		_, _ = w.Write([]byte(ok[r.URL.Path]))
	}))
	t.Cleanup(srv.Close)
	c, err := apiclient.For(apiclient.Vault, srv.URL, apiclient.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	c.Backoff = safehttp.Backoff{Sleep: func(context.Context, time.Duration) error { return nil }}
	return c.WithToken(secret.New("hvs.v")), func(path string) int { mu.Lock(); defer mu.Unlock(); return seen[path] }
}

// TestRenewalsRetryLoginAndMintDoNot: renew-self and a lease renewal are
// tried again after a 503; a JWT login and a creds read (which mints a
// token) are sent once.
func TestRenewalsRetryLoginAndMintDoNot(t *testing.T) {
	now := time.Now()
	c, seen := electionVault(t, map[string]string{
		"/v1/auth/token/renew-self":             `{"auth":{"client_token":"hvs.v","accessor":"acc","lease_duration":3600,"renewable":true}}`,
		"/v1/sys/leases/renew/nomad/creds/ci/1": `{"lease_id":"nomad/creds/ci/1","lease_duration":600,"renewable":true}`,
		"/v1/auth/jwt/login":                    `{"auth":{"client_token":"hvs.new","accessor":"acc2","lease_duration":3600}}`,
		"/v1/nomad/creds/ci":                    `{"lease_id":"nomad/creds/ci/2","lease_duration":600,"data":{"accessor_id":"a","secret_id":"s"}}`,
	})
	if tok, err := Renew(context.Background(), c, 0, now); err != nil || !tok.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Errorf("renew-self after a 503: %+v, %v", tok, err)
	}
	if l, err := RenewLease(context.Background(), c, "nomad/creds/ci/1", 0, now); err != nil || l.ID != "nomad/creds/ci/1" {
		t.Errorf("lease renewal after a 503: %+v, %v", l, err)
	}
	if _, err := VaultLogin(context.Background(), c, VaultLoginRequest{Mount: "jwt", Role: "ci", IDToken: secret.New("jwt")}, now); apiclient.StatusOf(err) != 503 {
		t.Errorf("login after a 503: %v, want the 503", err)
	}
	if _, err := Mint(context.Background(), c, store.Nomad, Target{Mount: "nomad"}, "ci", now); err == nil {
		t.Error("creds read after a 503: no error")
	}
	for path, want := range map[string]int{"/v1/auth/token/renew-self": 2, "/v1/sys/leases/renew/nomad/creds/ci/1": 2, "/v1/auth/jwt/login": 1, "/v1/nomad/creds/ci": 1} {
		if got := seen(path); got != want {
			t.Errorf("%s: %d requests, want %d", path, got, want)
		}
	}
}
