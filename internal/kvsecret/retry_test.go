package kvsecret

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
)

// TestReadRetriesTransient: the mount lookup and the KV read are reads,
// tried again after a 502 or 503 (a load balancer, a Vault between
// leaders).
func TestReadRetriesTransient(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path]++
		first := seen[r.URL.Path] == 1
		mu.Unlock()
		switch {
		case first && r.URL.Path == "/v1/sys/internal/ui/mounts/kv2/ok":
			w.WriteHeader(http.StatusBadGateway)
		case first:
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/v1/sys/internal/ui/mounts/kv2/ok":
			_, _ = w.Write([]byte(`{"data":{"path":"kv2/","type":"kv","options":{"version":"2"}}}`))
		case r.URL.Path == "/v1/kv2/data/ok":
			_, _ = w.Write([]byte(`{"data":{"data":{"password":"v2-value"}}}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	c, err := apiclient.For(apiclient.Vault, srv.URL, apiclient.TLS{})
	if err != nil {
		t.Fatal(err)
	}
	c.Backoff = safehttp.Backoff{Sleep: func(context.Context, time.Duration) error { return nil }}
	s, err := Parse("X=kv2/ok#password", false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Read(context.Background(), c.WithToken(secret.New("tok")), "ci", s)
	if err != nil || got.Reveal() != "v2-value" {
		t.Fatalf("Read = %q, %v; want v2-value", got.Reveal(), err)
	}
	if seen["/v1/sys/internal/ui/mounts/kv2/ok"] != 2 || seen["/v1/kv2/data/ok"] != 2 {
		t.Errorf("requests %v, want two of each", seen)
	}
}
