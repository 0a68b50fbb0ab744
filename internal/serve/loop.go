package serve

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/apply"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/reaper"
)

// lead is the leader's work: reconcile and reap every interval and after
// each new configuration, until ctx is done (shutdown or lost lock). A run
// that is under way when ctx ends is abandoned through its context; apply
// is idempotent, so the next leader's run converges.
//
// inForce is the configuration this leader last reconciled successfully:
// when the plan of a newer one is a mass delete (apply refuses it without
// AllowMassDelete, which serve never sets), that one is reconciled
// instead, so the configuration in force stays.
func (s *Server) lead(ctx context.Context) {
	var ls leadState
	s.setLeading(true)
	defer s.setLeading(false)
	// The first run comes at once and covers any pending new config.
	select {
	case <-s.kick:
	default:
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
		s.runOnce(ctx, &ls)
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(s.opts.Interval)
	}
}

func (s *Server) setLeading(v bool) {
	s.mu.Lock()
	s.leading = v
	s.mu.Unlock()
	if v {
		s.metrics.Leader.Set(1)
	} else {
		s.metrics.Leader.Set(0)
	}
}

// leadState is what a leader knows from its own runs.
//
// inForce is the configuration last applied in full. conflicted names the
// profiles that runs since then failed on with a conflict on the profile's
// own objects (its roles, its policy alilogin-profile-P): an admin deleted
// the broker's role and made one by hand, say. Such a profile is no longer
// known to be the broker's, whatever inForce says, so it is left out of
// the reap until a run succeeds again (which shows every profile of its
// configuration managed). A run that fails for another reason (a server
// not answering) does not clear it.
type leadState struct {
	inForce    *state
	conflicted map[string]bool
}

// ran takes in the result of reconciling st: success puts st in force
// and forgets the conflicts; a conflict error adds its profiles.
func (ls *leadState) ran(st *state, err error) {
	if err == nil {
		ls.inForce = st
		ls.conflicted = nil
		return
	}
	for _, p := range conflictProfiles(err) {
		if ls.conflicted == nil {
			ls.conflicted = map[string]bool{}
		}
		ls.conflicted[p] = true
	}
}

// conflictProfiles names the profiles whose own objects err (from apply)
// reports as conflicts: a Vault nomad, consul or JWT role P, or the Vault
// policy alilogin-profile-P, held by an object the broker did not make. A
// conflict on another kind (a Nomad or Consul policy a profile grants, a
// group) leaves the profile's roles the broker's.
func conflictProfiles(err error) []string {
	var cerr *apply.ConflictError
	if !errors.As(err, &cerr) {
		return nil
	}
	var out []string
	for _, c := range cerr.Conflicts {
		switch c.Kind {
		case plan.NomadRole, plan.ConsulRole, plan.JWTRole, plan.PKIRole:
			out = append(out, c.Name)
		case plan.VaultPolicy:
			if p, ok := strings.CutPrefix(c.Name, policy.ProfilePolicyPrefix); ok {
				out = append(out, p)
			}
		}
	}
	return out
}

// runOnce reconciles the configuration loaded last, or, when its plan is a
// mass delete, the one in force before it; then reaps for the profiles of
// the configuration last applied in full, less those that later runs found
// in conflict (leadState). A profile whose apply failed on a conflict (a
// role of its name that is someone else's) is not known to be the
// broker's, so the tokens named for it are not the reaper's business;
// before a first good run, nothing is reaped.
func (s *Server) runOnce(ctx context.Context, ls *leadState) {
	st := s.current()
	if st == nil {
		s.log.Warn("no valid configuration loaded yet; nothing to reconcile", "dir", s.opts.Dir)
		return
	}
	start := s.now()
	out, err := s.opts.Reconciler.Reconcile(ctx, st.cfg)
	dur := s.now().Sub(start)
	if ctx.Err() != nil {
		s.log.Info("reconcile abandoned", "reason", context.Cause(ctx))
		return
	}
	var merr *apply.MassDeleteError
	if !errors.As(err, &merr) {
		s.record(st, out, err, dur, nil)
		s.metrics.MassDeleteHeld.Set(0)
		ls.ran(st, err)
		if err != nil && ls.inForce != nil {
			s.log.Info("reaping for the configuration in force, not for the one that failed to apply",
				"generation", st.generation, "in_force_generation", ls.inForce.generation)
		}
		s.reap(ctx, ls)
		return
	}
	prev := ls.inForce
	if prev == nil || prev == st {
		s.record(st, Outcome{}, err, dur, nil)
		s.metrics.MassDeleteRefused.Inc()
		s.metrics.MassDeleteHeld.Set(1)
		s.log.Error("refusing to apply the policies folder: its plan is a mass delete; nothing was changed",
			"generation", st.generation, "guard", merr.Guard.String(), "deletes", merr.Guard.Deletes, "managed", merr.Guard.Managed)
		return
	}
	// Shown on /readyz at once, and until the folder is fixed (or the
	// deletes are done by hand), whatever the run below gives.
	s.mu.Lock()
	s.reconErr = merr
	s.mu.Unlock()
	s.metrics.MassDeleteRefused.Inc()
	s.metrics.MassDeleteHeld.Set(1)
	s.log.Error("refusing to apply the new policies folder: its plan is a mass delete; the configuration in force stays",
		"generation", st.generation, "in_force_generation", prev.generation, "guard", merr.Guard.String(),
		"deletes", merr.Guard.Deletes, "managed", merr.Guard.Managed,
		"hint", "check the folder; if the deletes are meant, run 'broker apply --prune --allow-mass-delete' once")
	start = s.now()
	out, err = s.opts.Reconciler.Reconcile(ctx, prev.cfg)
	dur = s.now().Sub(start)
	if ctx.Err() != nil {
		s.log.Info("reconcile abandoned", "reason", context.Cause(ctx))
		return
	}
	s.record(prev, out, err, dur, merr)
	ls.ran(prev, err)
	s.reap(ctx, ls)
}

// record reports one reconcile run of st in the metrics, the status and
// the log. /readyz shows err, else held (a refused newer folder).
func (s *Server) record(st *state, out Outcome, err error, dur time.Duration, held error) {
	s.metrics.ReconcileDuration.Observe(dur.Seconds())
	s.warn(out, err)
	for sys, n := range out.Found {
		s.metrics.DriftFound.WithLabelValues(sys).Add(float64(n))
	}
	for sys, n := range out.Fixed {
		s.metrics.DriftFixed.WithLabelValues(sys).Add(float64(n))
	}
	s.mu.Lock()
	s.reconcileAt = s.now()
	s.reconErr = err
	if err == nil {
		s.reconcileOK = s.reconcileAt
		if held != nil {
			s.reconErr = held
		}
	}
	s.mu.Unlock()
	if err != nil {
		s.metrics.ReconcileRuns.WithLabelValues("error").Inc()
		s.metrics.Errors.WithLabelValues("reconcile").Inc()
		s.log.Error("reconcile failed", "generation", st.generation, "duration", dur.String(), "err", err)
		return
	}
	s.metrics.ReconcileRuns.WithLabelValues("ok").Inc()
	s.metrics.LastSuccess.Set(float64(s.reconcileAt.UnixNano()) / 1e9)
	lvl := s.log.Debug
	if sum(out.Found) > 0 || sum(out.Fixed) > 0 {
		lvl = s.log.Info
	}
	lvl("reconciled", "generation", st.generation, "duration", dur.String(),
		"drift_found", out.Found, "drift_fixed", out.Fixed)
}

// warn reports what a run found for the admin to act on: the default
// policy gauge on each run that checked it; the warnings in the log, at
// warn, when they differ from the last run's (a run that failed before
// reading the servers has none, and changes nothing), so that a hole left
// open shows at once, and again after each change, without a line every
// interval.
func (s *Server) warn(out Outcome, err error) {
	if out.DefaultPolicyChecked {
		v := 0.0
		if out.DefaultPolicyOpen {
			v = 1
		}
		s.metrics.DefaultPolicyOpen.Set(v)
	}
	if err != nil && len(out.Warnings) == 0 {
		return
	}
	s.mu.Lock()
	same := slices.Equal(s.warnings, out.Warnings)
	s.warnings = slices.Clone(out.Warnings)
	s.mu.Unlock()
	if same {
		return
	}
	for _, w := range out.Warnings {
		s.log.Warn("warning from the reconcile run", "warning", w)
	}
}

// reap deletes the orphaned tokens of the profiles of the configuration
// in force, less the conflicted ones; none in force: no configuration has
// been applied in full yet, nothing is reaped.
func (s *Server) reap(ctx context.Context, ls *leadState) {
	if s.opts.Reaper == nil {
		return
	}
	st := ls.inForce
	if st == nil {
		s.log.Warn("not reaping: no configuration applied successfully yet")
		return
	}
	profiles := reaper.ProfilesOf(st.cfg)
	if len(ls.conflicted) > 0 {
		var left []string
		profiles = slices.DeleteFunc(profiles, func(p reaper.Profile) bool {
			if ls.conflicted[p.Name] {
				left = append(left, p.Name)
				return true
			}
			return false
		})
		if len(left) > 0 {
			s.log.Warn("not reaping for profiles whose roles are in conflict (not the broker's) since the last successful run",
				"profiles", left)
		}
	}
	res, err := s.opts.Reaper.Reap(ctx, profiles)
	for _, t := range res.Orphans {
		s.metrics.OrphansFound.WithLabelValues(t.System).Inc()
		if t.Deleted {
			s.metrics.TokensReaped.WithLabelValues(t.System).Inc()
		}
	}
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		s.metrics.ReapRuns.WithLabelValues("error").Inc()
		s.metrics.Errors.WithLabelValues("reap").Inc()
		s.log.Error("reaping orphaned tokens failed", "err", err)
		return
	}
	s.metrics.ReapRuns.WithLabelValues("ok").Inc()
	s.log.Debug("reaped", "generation", st.generation, "examined", res.Examined, "orphans", len(res.Orphans))
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
