package serve

import (
	"context"
	"errors"
	"time"

	"github.com/alisw/alilogin/internal/apply"
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
	s.setLeading(true)
	defer s.setLeading(false)
	// The first run comes at once and covers any pending new config.
	select {
	case <-s.kick:
	default:
	}
	t := time.NewTimer(0)
	defer t.Stop()
	var inForce *state
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
		s.runOnce(ctx, &inForce)
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

// runOnce reconciles the configuration loaded last, or, when its plan is a
// mass delete, the one in force before it; then reaps for the profiles of
// the configuration last applied in full. A profile whose apply failed
// (a role of its name that is someone else's: a conflict) is not known to
// be the broker's, so the tokens named for it are not the reaper's
// business; before a first good run, nothing is reaped.
func (s *Server) runOnce(ctx context.Context, inForce **state) {
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
		if err == nil {
			*inForce = st
		} else if *inForce != nil {
			s.log.Info("reaping for the configuration in force, not for the one that failed to apply",
				"generation", st.generation, "in_force_generation", (*inForce).generation)
		}
		s.reap(ctx, *inForce)
		return
	}
	prev := *inForce
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
	s.reap(ctx, prev)
}

// record reports one reconcile run of st in the metrics, the status and
// the log. /readyz shows err, else held (a refused newer folder).
func (s *Server) record(st *state, out Outcome, err error, dur time.Duration, held error) {
	s.metrics.ReconcileDuration.Observe(dur.Seconds())
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

// reap deletes the orphaned tokens of st's profiles; st nil: no
// configuration has been applied in full yet, nothing is reaped.
func (s *Server) reap(ctx context.Context, st *state) {
	if s.opts.Reaper == nil {
		return
	}
	if st == nil {
		s.log.Warn("not reaping: no configuration applied successfully yet")
		return
	}
	res, err := s.opts.Reaper.Reap(ctx, reaper.ProfilesOf(st.cfg))
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
