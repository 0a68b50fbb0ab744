package apiclient

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/safehttp"
)

// flakyVault answers each request with the next of answers (the last one
// over and over): a status with Vault's error body, "sealed" for a sealed
// Vault's 503, "reset" to close the connection without an answer.
func flakyVault(t *testing.T, answers ...string) (*Client, *atomic.Int32, *[]time.Duration) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		switch a := answers[min(i, len(answers)-1)]; a {
		case "reset":
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
		case "sealed":
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"errors":["Vault is sealed"]}`)
		case "200":
			_, _ = io.WriteString(w, `{"auth":{"client_token":"hvs.x"}}`)
		default:
			w.Header().Set("Content-Type", "application/json")
			switch a {
			case "500":
				w.WriteHeader(500)
			case "502":
				w.WriteHeader(502)
			case "503":
				w.WriteHeader(503)
			case "403":
				w.WriteHeader(403)
			}
			_, _ = io.WriteString(w, `{"errors":["`+a+` from the test"]}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := For(Vault, srv.URL, TLS{})
	if err != nil {
		t.Fatal(err)
	}
	var slept []time.Duration
	now := time.Unix(0, 0)
	c.Backoff = safehttp.Backoff{
		Now:   func() time.Time { return now },
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); now = now.Add(d); return nil },
	}
	return c, &n, &slept
}

// TestDoIdempotentRetriesTransientFailures: an idempotent call (a renewal,
// a lookup) is tried again after a 5xx or a dropped connection, with
// growing waits; not after a sealed Vault's 503 or a refusal; Do (a
// login, a creds read) is never tried twice.
func TestDoIdempotentRetriesTransientFailures(t *testing.T) {
	for _, tc := range []struct {
		name       string
		idempotent bool
		answers    []string
		ok         bool
		status     int // of the error
		requests   int32
		waits      int
	}{
		{"503 then 200", true, []string{"503", "200"}, true, 0, 2, 1},
		{"502, 500, then 200", true, []string{"502", "500", "200"}, true, 0, 3, 2},
		{"connection reset, then 200", true, []string{"reset", "200"}, true, 0, 2, 1},
		{"always 503: 4 tries", true, []string{"503"}, false, 503, 4, 3},
		{"sealed: once", true, []string{"sealed", "200"}, false, 503, 1, 0},
		{"403: once", true, []string{"403", "200"}, false, 403, 1, 0},
		{"Do after a 503: once", false, []string{"503", "200"}, false, 503, 1, 0},
		{"Do after a reset: once", false, []string{"reset", "200"}, false, 0, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, n, slept := flakyVault(t, tc.answers...)
			do := c.Do
			if tc.idempotent {
				do = c.DoIdempotent
			}
			var out struct {
				Auth struct {
					ClientToken string `json:"client_token"`
				} `json:"auth"`
			}
			err := do(context.Background(), http.MethodPost, "/v1/auth/token/renew-self", map[string]any{}, &out)
			if (err == nil) != tc.ok || StatusOf(err) != tc.status || n.Load() != tc.requests || len(*slept) != tc.waits {
				t.Errorf("err %v (status %d) after %d requests and waits %v; want ok=%v, status %d, %d requests, %d waits",
					err, StatusOf(err), n.Load(), *slept, tc.ok, tc.status, tc.requests, tc.waits)
			}
			if tc.ok && out.Auth.ClientToken != "hvs.x" {
				t.Errorf("answer not decoded: %+v", out)
			}
			var total time.Duration
			for i, d := range *slept {
				total += d
				if i > 0 && d <= (*slept)[i-1] {
					t.Errorf("waits %v do not grow", *slept)
				}
			}
			if total > safehttp.DefaultBudget {
				t.Errorf("waited %s in all, over the %s budget", total, safehttp.DefaultBudget)
			}
		})
	}
}
