package reaper

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
)

// fakeLeases speaks Vault's sys/leases/lookup: LIST a prefix, PUT a lease
// id for its issue time. It counts the calls.
type fakeLeases struct {
	mu      sync.Mutex
	issued  map[string]time.Time // lease id -> issue time
	lists   int
	lookups int
}

func (f *fakeLeases) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == "LIST" && strings.HasPrefix(r.URL.Path, "/v1/sys/leases/lookup/"):
		f.lists++
		prefix := strings.TrimPrefix(r.URL.Path, "/v1/sys/leases/lookup/")
		seen := map[string]bool{}
		var keys []string
		for id := range f.issued {
			rest, ok := strings.CutPrefix(id, prefix)
			if !ok {
				continue
			}
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				rest = rest[:i+1]
			}
			if !seen[rest] {
				seen[rest] = true
				keys = append(keys, rest)
			}
		}
		if len(keys) == 0 {
			http.Error(w, `{"errors":[]}`, http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"keys": keys}})
	case r.Method == http.MethodPut && r.URL.Path == "/v1/sys/leases/lookup":
		f.lookups++
		var in struct {
			LeaseID string `json:"lease_id"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		t, ok := f.issued[in.LeaseID]
		if !ok {
			http.Error(w, `{"errors":["invalid lease"]}`, http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"id": in.LeaseID, "issue_time": t.Format(time.RFC3339Nano)}})
	default:
		http.NotFound(w, r)
	}
}

func TestLeaseCheck(t *testing.T) {
	made := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	f := &fakeLeases{issued: map[string]time.Time{
		"nomad/creds/ci/a":   made.Add(-time.Hour),            // an older token's
		"nomad/creds/ci-x/b": made.Add(30 * time.Millisecond), // an unmanaged role's: vault-ci-x-...
		"nomad/creds/ci/c":   made.Add(-3 * time.Second),
	}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	vault, err := apiclient.New("Vault", srv.URL, "X-Vault-Token", apiclient.TLS{}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cand := func(label string, madeAt time.Time) candidate {
		return candidate{token: token{Label: label}, MadeAt: madeAt, Mount: "nomad"}
	}
	l := newLeases(vault, nil)
	for _, tc := range []struct {
		name string
		c    candidate
		want bool
	}{
		{"no lease issued then", cand("vault-ci-jwt-alice-1", made), false},
		{"lease of an unmanaged role the name extends to", cand("vault-ci-x-jwt-alice-1", made), true},
		{"lease issued just after", cand("vault-ci-jwt-alice-1", made.Add(-3*time.Second-10*time.Millisecond)), true},
		{"lease issued a little before (clock stepped back)", cand("vault-ci-jwt-alice-1", made.Add(-3*time.Second+500*time.Millisecond)), true},
		{"lease issued long after", cand("vault-ci-jwt-alice-1", made.Add(-time.Hour-3*time.Minute)), false},
		{"no role with leases", cand("vault-build-jwt-alice-1", made), false},
	} {
		live, err := l.live(ctx, tc.c, nomadFormat, []string{"nomad"})
		if err != nil || live != tc.want {
			t.Errorf("%s: live = %v, %v; want %v", tc.name, live, err, tc.want)
		}
	}
	if f.lookups != 3 || f.lists != 3 {
		t.Errorf("first pass: %d lists, %d lookups; want 3 (creds/, ci/, ci-x/) and 3", f.lists, f.lookups)
	}
	// The next pass looks up only new leases.
	f.issued["nomad/creds/ci/d"] = made
	l = newLeases(vault, l.next())
	if live, err := l.live(ctx, cand("vault-ci-jwt-alice-1", made), nomadFormat, []string{"nomad"}); err != nil || !live {
		t.Errorf("second pass: live = %v, %v", live, err)
	}
	if f.lookups != 4 {
		t.Errorf("second pass: %d lookups in all, want 4 (one new lease)", f.lookups)
	}
	// A Vault that refuses: an error, never "no lease".
	f.mu.Lock()
	f.issued = nil
	f.mu.Unlock()
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"errors":["permission denied"]}`, http.StatusForbidden)
	})
	l = newLeases(vault, nil)
	if _, err := l.live(ctx, cand("vault-ci-jwt-alice-1", made), nomadFormat, []string{"nomad"}); err == nil {
		t.Error("a Vault that refuses the lease list: no error")
	}
}
