package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/safehttp"
	"github.com/alisw/alilogin/internal/secret"
)

// TestSSOReadsRetryGrantsDoNot: the SSO's discovery document (a GET) is
// read again after a 503 of a load balancer; the refresh grant (a POST to
// the token endpoint) is not sent again by alilogin: the token endpoint
// gets as many requests as with retries turned off.
func TestSSOReadsRetryGrantsDoNot(t *testing.T) {
	noWait := safehttp.Backoff{Sleep: func(context.Context, time.Duration) error { return nil }}
	tokenRequests := func(b safehttp.Backoff) int {
		var discoveries atomic.Int32
		var issuer string
		disco := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if discoveries.Add(1) == 1 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"issuer": issuer, "authorization_endpoint": issuer + "/auth", "token_endpoint": issuer + "/token",
				"jwks_uri": issuer + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
				"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			})
		})
		var endpoints *hostile.Recorder
		issuer, endpoints = hostileOP(t, hostile.ErrorBody(http.StatusServiceUnavailable, "text/plain", "busy"), disco)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := New(ctx, Config{Issuer: issuer, ClientID: "cli", Backoff: b})
		if b.Retries < 0 {
			if err == nil {
				t.Fatal("discovery after a 503 without retries: no error")
			}
			// Discover for the token endpoint's count.
			if c, err = New(ctx, Config{Issuer: issuer, ClientID: "cli", Backoff: b}); err != nil {
				t.Fatal(err)
			}
		} else if err != nil || discoveries.Load() != 2 {
			t.Fatalf("discovery after a 503: %v after %d requests; want a second, successful one", err, discoveries.Load())
		}
		if _, err := c.Refresh(ctx, secret.New("rt")); err == nil {
			t.Fatal("refresh grant answered 503: no error")
		}
		return len(endpoints.Requests())
	}
	with, without := tokenRequests(noWait), tokenRequests(safehttp.Backoff{Retries: -1})
	t.Logf("the refresh grant reached the token endpoint %d times (x/oauth2 tries a second client authentication style after an error)", with)
	if with != without || with == 0 {
		t.Errorf("the refresh grant reached the token endpoint %d times with retries, %d without; want the same", with, without)
	}
}
