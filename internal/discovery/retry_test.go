package discovery

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestFetchRetriesTransient: a broker behind a load balancer that answers
// 502 while the broker restarts: the document is read on the next try.
func TestFetchRetriesTransient(t *testing.T) {
	d := sample()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_ = json.NewEncoder(w).Encode(d)
	}))
	defer srv.Close()
	if _, err := Fetch(context.Background(), srv.Client(), srv.URL); err != nil || n.Load() != 2 {
		t.Errorf("Fetch after a 502: %v after %d requests; want the document on the second", err, n.Load())
	}
}
