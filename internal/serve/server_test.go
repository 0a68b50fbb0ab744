package serve

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/discovery"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/testutil"
)

// fakeLoad reads a one-line file "profiles.hcl" with profile names; the
// word "broken" makes it fail, as an invalid folder does.
func fakeLoad(dir string) (*policy.Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, "profiles.hcl"))
	if err != nil {
		return nil, err
	}
	if strings.Contains(string(b), "broken") || len(strings.Fields(string(b))) == 0 {
		return nil, errors.New("profiles.hcl:1,1: broken")
	}
	cfg := &policy.Config{Dir: dir, SSO: policy.SSO{Issuer: "https://sso.example/", ClientID: "alilogin", RolesClaim: "cern_roles", UserClaim: "cern_upn"},
		Vault: policy.Vault{JWTMount: "jwt", NomadMount: "nomad", ConsulMount: "consul"}}
	for _, n := range strings.Fields(string(b)) {
		cfg.Profiles = append(cfg.Profiles, policy.Profile{Name: n, Roles: []string{"role-" + n}, NomadPolicies: []string{"x"}, MaxTTL: time.Hour})
	}
	return cfg, nil
}

type countingReconciler struct {
	runs atomic.Int32
	mu   sync.Mutex
	seen []string
}

func (c *countingReconciler) Reconcile(ctx context.Context, cfg *policy.Config) (Outcome, error) {
	c.runs.Add(1)
	c.mu.Lock()
	c.seen = append(c.seen, cfg.Profiles[0].Name)
	c.mu.Unlock()
	return Outcome{Found: map[string]int{"nomad": 1}, Fixed: map[string]int{"nomad": 1}}, nil
}

func (c *countingReconciler) last() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) == 0 {
		return ""
	}
	return c.seen[len(c.seen)-1]
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

// metric returns the value of the series named exactly series (name with
// labels) in /metrics, or -1.
func metric(t *testing.T, h http.Handler, series string) float64 {
	t.Helper()
	_, body := get(t, h, "/metrics")
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
				return v
			}
		}
	}
	return -1
}

func TestServeKeepsLastGoodConfig(t *testing.T) {
	dir := t.TempDir()
	// Write and rename, so that the 20ms watcher never reads half a file.
	write := func(s string) {
		tmp := filepath.Join(t.TempDir(), "profiles.hcl")
		if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "profiles.hcl")); err != nil {
			t.Fatal(err)
		}
	}
	write("alpha")
	rec := &countingReconciler{}
	srv, err := New(Options{Dir: dir, Load: fakeLoad, Reconciler: rec, Interval: time.Hour, WatchInterval: 20 * time.Millisecond,
		Public: Public{VaultAddr: "https://vault.example"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Run(ctx) }()
	h := srv.Handler()

	testutil.WaitFor(t, 5*time.Second, "first reconcile", func() bool { return rec.runs.Load() == 1 })
	if code, body := get(t, h, "/readyz"); code != 200 {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	code, body := get(t, h, "/v1/discovery")
	d, err := discovery.Parse([]byte(body))
	if code != 200 || err != nil || d.Profiles[0].Name != "alpha" || d.Vault.Addr != "https://vault.example" {
		t.Fatalf("/v1/discovery = %d %v %s", code, err, body)
	}

	// A new good config is applied at once, without waiting an interval.
	write("beta")
	testutil.WaitFor(t, 5*time.Second, "reconcile of the new config", func() bool { return rec.last() == "beta" })

	// A broken folder: not ready, the last good config stays, no reconcile.
	runs := rec.runs.Load()
	write("broken")
	testutil.WaitFor(t, 5*time.Second, "readyz to fail", func() bool { c, _ := get(t, h, "/readyz"); return c == 503 })
	_, body = get(t, h, "/readyz")
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil || !strings.Contains(st.ConfigError, "broken") || st.Generation != 2 {
		t.Fatalf("/readyz body: %v %s", err, body)
	}
	if _, body := get(t, h, "/v1/discovery"); !strings.Contains(body, `"beta"`) {
		t.Fatalf("discovery lost the last good config: %s", body)
	}
	// The reload on request reads the broken folder again (one more load
	// error), and kicks no run.
	loadErrs := metric(t, h, `alilogin_broker_errors_total{stage="load"}`)
	srv.Reload()
	testutil.WaitFor(t, 5*time.Second, "the reload on request", func() bool {
		return metric(t, h, `alilogin_broker_errors_total{stage="load"}`) > loadErrs
	})
	if got := rec.runs.Load(); got != runs {
		t.Fatalf("reconciled %d times after a broken folder", got-runs)
	}
	_, metrics := get(t, h, "/metrics")
	for _, want := range []string{"alilogin_broker_config_valid 0", "alilogin_broker_config_generation 2",
		`alilogin_broker_drift_fixed_total{system="nomad"} 2`, `alilogin_broker_errors_total{stage="load"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	// Fixed again: ready, and reconciled once: the run for gamma is the
	// first since the folder broke (the lead loop takes kicks in order, so
	// a run kicked by the broken folder would have come before it).
	write("gamma beta")
	testutil.WaitFor(t, 5*time.Second, "readyz to recover", func() bool { c, _ := get(t, h, "/readyz"); return c == 200 })
	testutil.WaitFor(t, 5*time.Second, "reconcile of the fixed config", func() bool { return rec.last() == "gamma" })
	if got := rec.runs.Load(); got != runs+1 {
		t.Fatalf("%d runs since the folder broke, want only the one for the fixed folder", got-runs)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestServeNoConfig(t *testing.T) {
	srv, err := New(Options{Dir: t.TempDir(), Load: fakeLoad, Reconciler: &countingReconciler{}})
	if err != nil {
		t.Fatal(err)
	}
	srv.loadIfChanged(true)
	h := srv.Handler()
	if code, _ := get(t, h, "/v1/discovery"); code != 503 {
		t.Errorf("/v1/discovery without config = %d", code)
	}
	if code, _ := get(t, h, "/readyz"); code != 503 {
		t.Errorf("/readyz without config = %d", code)
	}
	if code, _ := get(t, h, "/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
}

// TestChangeLoadedWhenSettled: a change is loaded only once two polls see
// the same content, never in the middle of a rewrite.
func TestChangeLoadedWhenSettled(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "profiles.hcl")
	if err := os.WriteFile(p, []byte("alpha"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Dir: dir, Load: fakeLoad, Reconciler: &countingReconciler{}})
	if err != nil {
		t.Fatal(err)
	}
	srv.loadIfChanged(true)
	gen := func() int64 { return srv.current().generation }
	for i, step := range []struct {
		content string // "" keeps the file
		want    int64
	}{
		{"alp", 1}, // half written: seen once, not loaded
		{"alpha beta", 1},
		{"", 2}, // same content on the next poll: loaded
		{"", 2},
	} {
		if step.content != "" {
			if err := os.WriteFile(p, []byte(step.content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		srv.loadIfChanged(false)
		if g := gen(); g != step.want {
			t.Fatalf("step %d: generation %d, want %d", i, g, step.want)
		}
	}
	if got := srv.current().cfg.Profiles; len(got) != 2 {
		t.Fatalf("loaded %v", got)
	}
}

// startServer makes a Server of opts and runs it until the test ends.
func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return srv
}

// policyFolder is an empty policies folder and the function that writes
// its one file, profiles.hcl (fakeLoad's format).
func policyFolder(t *testing.T) (string, func(string)) {
	dir := t.TempDir()
	return dir, func(s string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "profiles.hcl"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
