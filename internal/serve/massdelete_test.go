package serve

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apply"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/testutil"
)

// guardReconciler refuses, as apply does without AllowMassDelete, every
// configuration whose first profile is "tiny", and records what it
// reconciled.
type guardReconciler struct {
	mu   sync.Mutex
	seen []string
}

func (g *guardReconciler) Reconcile(_ context.Context, cfg *policy.Config) (Outcome, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seen = append(g.seen, cfg.Profiles[0].Name)
	if cfg.Profiles[0].Name == "tiny" {
		return Outcome{}, &apply.MassDeleteError{Guard: plan.Guard{Managed: 10, Deletes: 9, Mass: true}}
	}
	return Outcome{Found: map[string]int{}, Fixed: map[string]int{}}, nil
}

func (g *guardReconciler) runs() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.seen)
}

// metricLine tells whether /metrics has the line "name value".
func metricLine(t *testing.T, srv *Server, line string) bool {
	t.Helper()
	_, body := get(t, srv.Handler(), "/metrics")
	return slices.Contains(strings.Split(body, "\n"), line)
}

// metricValue is the value of the metric named (with its labels) by name,
// or -1 when /metrics has no such line.
func metricValue(t *testing.T, srv *Server, name string) float64 {
	t.Helper()
	_, body := get(t, srv.Handler(), "/metrics")
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", name, err)
			}
			return f
		}
	}
	return -1
}

func TestMassDeleteKeepsTheConfigurationInForce(t *testing.T) {
	dir, write := policyFolder(t)
	write("a b c")
	rec := &guardReconciler{}
	srv := startServer(t, Options{Dir: dir, Load: fakeLoad, Reconciler: rec, WatchInterval: 3600e9, Interval: 3600e9})
	testutil.WaitFor(t, 5*time.Second, "the first reconcile", func() bool { return len(rec.runs()) == 1 })

	write("tiny")
	srv.Reload()
	testutil.WaitFor(t, 5*time.Second, "the refusal and the run of the configuration in force", func() bool { return len(rec.runs()) == 3 })
	if got := rec.runs(); !slices.Equal(got, []string{"a", "tiny", "a"}) {
		t.Errorf("reconciled %v; want a, then tiny refused, then a again", got)
	}
	for _, l := range []string{"alilogin_broker_mass_delete_refused_total 1", "alilogin_broker_mass_delete_held 1"} {
		if !metricLine(t, srv, l) {
			t.Errorf("/metrics lacks %q", l)
		}
	}
	if st := srv.Status(); st.Ready || !strings.Contains(st.ReconcileError, "mass delete") {
		t.Errorf("status %+v: want not ready, with the refusal", st)
	}

	// The folder fixed: applied, and the gauge back to 0.
	write("a b")
	srv.Reload()
	testutil.WaitFor(t, 5*time.Second, "the fixed folder", func() bool { r := rec.runs(); return len(r) == 4 })
	if !metricLine(t, srv, "alilogin_broker_mass_delete_held 0") {
		t.Error("mass_delete_held is not 0 after the fix")
	}
	if st := srv.Status(); st.ReconcileError != "" {
		t.Errorf("status after the fix: %+v", st)
	}
}

// With no configuration in force yet (a start), nothing is applied.
func TestMassDeleteAtStartAppliesNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "profiles.hcl"), []byte("tiny"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := &guardReconciler{}
	srv := startServer(t, Options{Dir: dir, Load: fakeLoad, Reconciler: rec, WatchInterval: 3600e9, Interval: 3600e9})
	testutil.WaitFor(t, 5*time.Second, "the refusal", func() bool { return metricLine(t, srv, "alilogin_broker_mass_delete_refused_total 1") })
	if got := rec.runs(); !slices.Equal(got, []string{"tiny"}) {
		t.Errorf("reconciled %v", got)
	}
	if st := srv.Status(); st.Ready {
		t.Errorf("ready after a refused plan: %+v", st)
	}
}
