package serve

import (
	"context"
	"time"

	"github.com/alisw/alilogin/internal/reaper"
)

// lead is the leader's work: reconcile and reap every interval and after
// each new configuration, until ctx is done (shutdown or lost lock). A run
// that is under way when ctx ends is abandoned through its context; apply
// is idempotent, so the next leader's run converges.
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
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
		s.runOnce(ctx)
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

// runOnce reconciles the configuration in force, then reaps.
func (s *Server) runOnce(ctx context.Context) {
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
	}
	s.mu.Unlock()
	if err != nil {
		s.metrics.ReconcileRuns.WithLabelValues("error").Inc()
		s.metrics.Errors.WithLabelValues("reconcile").Inc()
		s.log.Error("reconcile failed", "generation", st.generation, "duration", dur.String(), "err", err)
	} else {
		s.metrics.ReconcileRuns.WithLabelValues("ok").Inc()
		s.metrics.LastSuccess.Set(float64(s.reconcileAt.UnixNano()) / 1e9)
		lvl := s.log.Debug
		if sum(out.Found) > 0 || sum(out.Fixed) > 0 {
			lvl = s.log.Info
		}
		lvl("reconciled", "generation", st.generation, "duration", dur.String(),
			"drift_found", out.Found, "drift_fixed", out.Fixed)
	}
	if s.opts.Reaper == nil {
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
