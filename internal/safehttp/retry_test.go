package safehttp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock is a Backoff's clock and sleep: sleeping moves the clock,
// nothing waits.
type fakeClock struct {
	now   time.Time
	slept []time.Duration
}

func (f *fakeClock) backoff() Backoff {
	return Backoff{
		Now: func() time.Time { return f.now },
		Sleep: func(_ context.Context, d time.Duration) error {
			f.slept = append(f.slept, d)
			f.now = f.now.Add(d)
			return nil
		},
		Jitter: func(d time.Duration) time.Duration { return d - 1 }, // the longest waits
	}
}

func TestBackoffIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cost       time.Duration // of each try
		tries      int
		slept      []time.Duration
		maxElapsed time.Duration // to the start of the last try
	}{
		{"fast failures: 3 retries, exponential waits", 0, 4,
			[]time.Duration{250*time.Millisecond - 1, 500*time.Millisecond - 1, time.Second - 1}, 2 * time.Second},
		// Tries end at 1 s, 2.25 s, 3.75 s: no try starts after 3 s.
		{"slow failures: stopped by the 3 s budget", time.Second, 3,
			[]time.Duration{250*time.Millisecond - 1, 500*time.Millisecond - 1}, 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeClock{now: time.Unix(0, 0)}
			start := f.now
			tries := 0
			f.backoff().Do(context.Background(), func() bool { tries++; f.now = f.now.Add(tc.cost); return true })
			if tries != tc.tries || !cmp.Equal(f.slept, tc.slept) || f.now.Sub(start) > tc.maxElapsed+tc.cost {
				t.Errorf("tries %d, slept %v, elapsed %s; want %d, %v, at most %s", tries, f.slept, f.now.Sub(start), tc.tries, tc.slept, tc.maxElapsed)
			}
		})
	}

	// Jitter: each wait is between half and all of its step.
	b := Backoff{Sleep: func(_ context.Context, d time.Duration) error {
		if d < 125*time.Millisecond || d >= time.Second {
			t.Errorf("wait %s outside [125ms, 1s)", d)
		}
		return nil
	}}
	b.Do(context.Background(), func() bool { return true })

	// Not transient: one try. A cancelled context: no more tries.
	tries := 0
	f := &fakeClock{now: time.Unix(0, 0)}
	f.backoff().Do(context.Background(), func() bool { tries++; return false })
	ctx, cancel := context.WithCancel(context.Background())
	f.backoff().Do(ctx, func() bool { tries++; cancel(); return true })
	if tries != 2 {
		t.Errorf("%d tries, want 1 + 1", tries)
	}
}

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   bool
	}{
		{500, `{"errors":["local node not active but active cluster node not found"]}`, true},
		{502, "Bad Gateway", true},
		{503, `{"errors":["no active Vault instance found"]}`, true},
		{504, "", true},
		{503, `{"errors":["Vault is sealed"]}`, false},
		{503, `{"initialized":true,"sealed":true,"standby":true}`, false},
		{501, "", false},
		{429, "", false},
		{403, `{"errors":["permission denied"]}`, false},
		{200, "", false},
	} {
		if got := TransientStatus(tc.status, tc.body); got != tc.want {
			t.Errorf("TransientStatus(%d, %q) = %v, want %v", tc.status, tc.body, got, tc.want)
		}
	}
}

// retryServer answers each request with the next of answers (the last
// one over and over); an answer of 0 closes the connection without one.
func retryServer(t *testing.T, answers ...int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		status := answers[min(i, len(answers)-1)]
		switch status {
		case 0:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		case http.StatusServiceUnavailable + 1000: // a sealed Vault
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"errors":["Vault is sealed"]}`)
		default:
			w.WriteHeader(status)
			_, _ = io.WriteString(w, "answer "+http.StatusText(status))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

const sealed = http.StatusServiceUnavailable + 1000

// TestRetryReads: a GET is tried again after a transient answer or a
// dropped connection; a sealed Vault's 503 and a POST are not.
func TestRetryReads(t *testing.T) {
	for _, tc := range []struct {
		name     string
		method   string
		answers  []int
		status   int // the answer the caller gets; 0: an error
		body     string
		requests int32
	}{
		{"503 then 200", http.MethodGet, []int{503, 200}, 200, "answer OK", 2},
		{"502, 504, 500, then 200", http.MethodGet, []int{502, 504, 500, 200}, 200, "answer OK", 4},
		{"always 503: the last answer", http.MethodGet, []int{503}, 503, "answer Service Unavailable", 4},
		{"connection closed, then 200", http.MethodGet, []int{0, 200}, 200, "answer OK", 2},
		{"sealed: once", http.MethodGet, []int{sealed, 200}, 503, `{"errors":["Vault is sealed"]}`, 1},
		{"404: once", http.MethodGet, []int{404, 200}, 404, "answer Not Found", 1},
		{"POST: once", http.MethodPost, []int{503, 200}, 503, "answer Service Unavailable", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := retryServer(t, tc.answers...)
			f := &fakeClock{now: time.Unix(0, 0)}
			hc := &http.Client{Transport: RetryReads(nil, f.backoff())}
			var body io.Reader
			if tc.method == http.MethodPost {
				body = strings.NewReader("grant_type=refresh_token")
			}
			req, _ := http.NewRequest(tc.method, srv.URL, body)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", tc.method, err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || string(got) != tc.body || n.Load() != tc.requests {
				t.Errorf("%d %q after %d requests; want %d %q after %d", resp.StatusCode, got, n.Load(), tc.status, tc.body, tc.requests)
			}
		})
	}
}
