package serve

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/testutil"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// policy.Load reports a hidden *.hcl left out (and
// unused policy files) as Config.Warnings rather than errors, on the
// ground that they are shown. `broker plan/apply` print them; `broker
// serve` drops them: a profile file that became hidden (".ops.hcl") is left
// out and, with --prune, its profiles are deleted with no word of why in
// the log.
func TestServeLogsLoadWarnings(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "profiles.hcl"), []byte("a b"), 0o644); err != nil {
		t.Fatal(err)
	}
	const warning = "p/.ops.hcl:1:1: hidden file left out (only files not starting with '.' are read)"
	load := func(d string) (*policy.Config, error) {
		cfg, err := fakeLoad(d)
		if cfg != nil {
			cfg.Warnings = []string{warning}
		}
		return cfg, err
	}
	var buf syncBuf
	srv, err := New(Options{Dir: dir, Load: load, Reconciler: &guardReconciler{}, WatchInterval: 3600e9, Interval: 3600e9,
		Log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	testutil.WaitFor(t, 5*time.Second, "the folder loaded", func() bool { return strings.Contains(buf.String(), "loaded the policies folder") })
	cancel()
	<-done
	if !strings.Contains(buf.String(), ".ops.hcl") {
		t.Errorf("serve's log does not show the load warning %q:\n%s", warning, buf.String())
	}
}

// warnReconciler answers as apply does for Vault's default policy: open
// while the first profile is "open", closed otherwise, with the warnings
// apply.Warnings would give.
type warnReconciler struct{ guardReconciler }

func (w *warnReconciler) Reconcile(ctx context.Context, cfg *policy.Config) (Outcome, error) {
	out, err := w.guardReconciler.Reconcile(ctx, cfg)
	out.DefaultPolicyChecked = true
	if cfg.Profiles[0].Name == "open" {
		out.DefaultPolicyOpen = true
		out.Warnings = []string{"Vault's default policy lets every token renew the leases", `the broker's nomad acl policy "anonymous" has a reserved name`}
	}
	return out, err
}

// TestServeReportsWarningsAndTheDefaultPolicyGauge: what a reconcile run
// finds for the admin (Vault's default policy open, a managed policy with
// a reserved name) is logged at warn when it first shows and when it
// changes, not on every run, and alilogin_broker_vault_default_policy_open
// follows the default policy, run by run.
func TestServeReportsWarningsAndTheDefaultPolicyGauge(t *testing.T) {
	dir, write := policyFolder(t)
	write("open")
	rec := &warnReconciler{}
	var buf syncBuf
	srv, err := New(Options{Dir: dir, Load: fakeLoad, Reconciler: rec, WatchInterval: 3600e9, Interval: 3600e9,
		Log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if !metricLine(t, srv, "alilogin_broker_vault_default_policy_open 0") {
		t.Error("the gauge is not exposed from the start")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() { cancel(); <-done }()
	ran := func(n string) func() bool {
		return func() bool { return metricLine(t, srv, `alilogin_broker_reconcile_runs_total{result="ok"} `+n) }
	}
	testutil.WaitFor(t, 5*time.Second, "the first run", ran("1"))
	testutil.WaitFor(t, 5*time.Second, "the gauge at 1", func() bool { return metricLine(t, srv, "alilogin_broker_vault_default_policy_open 1") })
	for _, w := range []string{"default policy lets every token", `policy \"anonymous\" has a reserved name`} {
		if strings.Count(buf.String(), w) != 1 {
			t.Errorf("the log has %q %d times after the first run, want once:\n%s", w, strings.Count(buf.String(), w), buf.String())
		}
	}
	write("open b")
	srv.Reload()
	testutil.WaitFor(t, 5*time.Second, "the second run", ran("2"))
	if n := strings.Count(buf.String(), "default policy lets every token"); n != 1 {
		t.Errorf("the same warning logged again on the next run (%d times)", n)
	}
	write("closed")
	srv.Reload()
	testutil.WaitFor(t, 5*time.Second, "the third run", ran("3"))
	testutil.WaitFor(t, 5*time.Second, "the gauge at 0", func() bool { return metricLine(t, srv, "alilogin_broker_vault_default_policy_open 0") })
}
