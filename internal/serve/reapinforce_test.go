package serve

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apply"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/reaper"
	"github.com/alisw/alilogin/internal/testutil"
)

// conflictReconciler fails, as apply does, on every configuration that has
// a profile "handmade": a nomad role of that name exists in Vault and is
// not the broker's (a conflict; nothing is written).
type conflictReconciler struct{}

func (conflictReconciler) Reconcile(_ context.Context, cfg *policy.Config) (Outcome, error) {
	for _, p := range cfg.Profiles {
		if p.Name == "handmade" {
			return Outcome{}, &apply.ConflictError{Conflicts: []plan.Conflict{{Kind: plan.NomadRole, Name: "handmade", Reason: "not managed"}}}
		}
	}
	return Outcome{Found: map[string]int{}, Fixed: map[string]int{}}, nil
}

type recordingReaper struct {
	mu   sync.Mutex
	seen [][]string
}

func (r *recordingReaper) Reap(_ context.Context, ps []reaper.Profile) (reaper.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	r.seen = append(r.seen, names)
	return reaper.Result{}, nil
}

func (r *recordingReaper) runs() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

// after a reconcile that failed — here on a conflict, the
// nomad role "handmade" being someone else's — serve still reaps with the
// new folder's profiles, so the reaper treats "handmade" as a managed
// profile and deletes the lease-less tokens of the hand-made Vault role of
// that name ("vault-handmade-...") although Vault did not make them for a
// managed profile. The reaper should only act for profiles whose roles the
// broker owns (e.g. the configuration in force, or the roles= records read
// by apply).
func TestNoReapForProfileWhoseApplyFailed(t *testing.T) {
	dir, write := policyFolder(t)
	write("a")
	rp := &recordingReaper{}
	srv := startServer(t, Options{Dir: dir, Load: fakeLoad, Reconciler: conflictReconciler{}, Reaper: rp, WatchInterval: 3600e9, Interval: 3600e9})
	testutil.WaitFor(t, 5*time.Second, "the first reap", func() bool { return len(rp.runs()) == 1 })
	write("a handmade")
	srv.Reload()
	testutil.WaitFor(t, 5*time.Second, "the failed run of the new folder", func() bool {
		return metricLine(t, srv, `alilogin_broker_reconcile_runs_total{result="error"} 1`)
	})
	// A good folder next: its reap comes after whatever the failed run
	// reaped (the lead loop does one run at a time).
	write("b")
	srv.Reload()
	testutil.WaitFor(t, 5*time.Second, "the reap of the next good folder", func() bool {
		r := rp.runs()
		return len(r) > 0 && slices.Equal(r[len(r)-1], []string{"b"})
	})
	for _, names := range rp.runs() {
		if slices.Contains(names, "handmade") {
			t.Errorf("reaped with profiles %v: profile handmade's apply failed on a conflict, its roles are not the broker's", names)
		}
	}
}
