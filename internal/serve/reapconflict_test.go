package serve

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apply"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/testutil"
)

// laterConflictReconciler succeeds until broken is set, then fails as
// apply does when the nomad role "handmade" is no longer the broker's (an
// admin deleted it and made one by hand of that name: a conflict).
type laterConflictReconciler struct{ broken atomic.Bool }

func (r *laterConflictReconciler) Reconcile(_ context.Context, cfg *policy.Config) (Outcome, error) {
	if r.broken.Load() {
		return Outcome{}, &apply.ConflictError{Conflicts: []plan.Conflict{{Kind: plan.NomadRole, Name: "handmade", Reason: "not managed"}}}
	}
	return Outcome{Found: map[string]int{}, Fixed: map[string]int{}}, nil
}

// Serve reaps "for the configuration last applied
// in full", so that "a profile whose role is someone else's, a conflict,
// is not known to be the broker's". But the same folder, applied in full
// once, stays "in force" after its later runs fail on exactly such a
// conflict (the broker's role P deleted and re-made by hand, or made by
// hand while it was gone): every interval the reaper still treats P as
// managed and deletes the lease-less "vault-P-…" tokens of the hand-made
// role P. What was true at the last success is not true now.
func TestNoReapForProfileWhoseRoleBecameAConflict(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "profiles.hcl"), []byte("a handmade"), 0o644); err != nil {
		t.Fatal(err)
	}
	rc := &laterConflictReconciler{}
	rp := &recordingReaper{}
	srv := startServer(t, Options{Dir: dir, Load: fakeLoad, Reconciler: rc, Reaper: rp, WatchInterval: 3600e9, Interval: 50 * time.Millisecond})
	testutil.WaitFor(t, 5*time.Second, "the first reap", func() bool { return len(rp.runs()) >= 1 })
	rc.broken.Store(true)
	testutil.WaitFor(t, 5*time.Second, "a failed run", func() bool {
		// At least two: the loop runs every 50ms, so a poll may see a later count.
		return metricValue(t, srv, `alilogin_broker_reconcile_runs_total{result="error"}`) >= 2
	})
	// Three more passes of the loop (50ms each), each after a failed run.
	n := len(rp.runs())
	testutil.WaitFor(t, 5*time.Second, "three more reaps", func() bool { return len(rp.runs()) >= n+3 })
	runs := rp.runs()
	for _, names := range runs[n-1:] {
		if slices.Contains(names, "handmade") {
			t.Errorf("reaped with profiles %v after the runs failed on a conflict on profile handmade's role", names)
			break
		}
	}
}

// The profiles a conflict names stay out of the reap through later runs
// that fail for another reason, and come back only after a success; a
// conflict on the profile's policy alilogin-profile-P counts, one on a
// policy it grants does not.
func TestConflictedProfilesStayOutUntilSuccess(t *testing.T) {
	cfg := &policy.Config{Profiles: []policy.Profile{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d"}}}
	st := &state{cfg: cfg}
	var ls leadState
	ls.ran(st, nil)
	ls.ran(st, &apply.ConflictError{Conflicts: []plan.Conflict{
		{Kind: plan.ConsulRole, Name: "a"},
		{Kind: plan.VaultPolicy, Name: policy.ProfilePolicy("b")},
		{Kind: plan.NomadPolicy, Name: "c"},
		{Kind: plan.VaultPolicy, Name: "d"},
	}})
	ls.ran(st, context.DeadlineExceeded)
	rp := &recordingReaper{}
	srv, err := New(Options{Dir: t.TempDir(), Load: fakeLoad, Reconciler: &laterConflictReconciler{}, Reaper: rp})
	if err != nil {
		t.Fatal(err)
	}
	srv.reap(context.Background(), &ls)
	ls.ran(st, nil)
	srv.reap(context.Background(), &ls)
	runs := rp.runs()
	if len(runs) != 2 || !slices.Equal(runs[0], []string{"c", "d"}) || !slices.Equal(runs[1], []string{"a", "b", "c", "d"}) {
		t.Errorf("reaped with %v, want [[c d] [a b c d]]", runs)
	}
}
