package serve

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/reaper"
)

// Outcome is what one reconcile run found and did, per system ("vault",
// "nomad", "consul").
type Outcome struct {
	Found map[string]int // objects that differed (planned creates, updates, deletes)
	Fixed map[string]int // objects written
	// Warnings are what the run found for the admin to act on
	// (apply.Warnings), logged when they change.
	Warnings []string
	// DefaultPolicyChecked: Vault's default policy was checked on the
	// profiles' leases; DefaultPolicyOpen: it lets every token renew (and
	// so shorten) them, or could not be read.
	DefaultPolicyChecked, DefaultPolicyOpen bool
}

// Reconciler plans and applies one configuration.
type Reconciler interface {
	Reconcile(ctx context.Context, cfg *policy.Config) (Outcome, error)
}

// TokenReaper deletes orphaned tokens of the given managed profiles.
type TokenReaper interface {
	Reap(ctx context.Context, profiles []reaper.Profile) (reaper.Result, error)
}

// Elector runs lead while this instance holds the leader lock.
type Elector interface {
	Run(ctx context.Context, lead func(ctx context.Context)) error
}

// Prober reports, per system, whether the servers answer.
type Prober interface {
	Probe(ctx context.Context) map[string]error
}

// Options configure a Server. Dir, Load and Reconciler are required.
type Options struct {
	Dir        string
	Load       func(dir string) (*policy.Config, error)
	Reconciler Reconciler
	Reaper     TokenReaper // nil: no reaping
	Elector    Elector     // nil: this instance always leads
	Prober     Prober      // nil: servers are assumed reachable
	Public     Public

	Interval      time.Duration // reconcile interval; default 5m
	WatchInterval time.Duration // how often the folder is checked for changes; default 5s
	ProbeInterval time.Duration // how often the servers are probed; default 10s

	Metrics *Metrics // nil: NewMetrics()
	Log     *slog.Logger
	Now     func() time.Time
}

// Server is a running broker.
type Server struct {
	opts    Options
	metrics *Metrics
	log     *slog.Logger
	now     func() time.Time

	reload chan struct{} // SIGHUP and tests
	kick   chan struct{} // a new config: reconcile now

	mu          sync.RWMutex
	cur         *state // last good configuration; nil before the first
	loadErr     error  // the folder as it is on disk does not load
	lastHash    string // stamp of the folder (fingerprint) at the last attempt
	pendHash    string // a change seen once, loaded when still there next poll
	reconcileAt time.Time
	reconcileOK time.Time
	reconErr    error
	probeErrs   map[string]error
	probed      bool
	leading     bool
	warnings    []string // of the last reconcile run that read the servers
}

// New returns a Server; Run starts it.
func New(o Options) (*Server, error) {
	if o.Dir == "" || o.Load == nil || o.Reconciler == nil {
		return nil, errors.New("serve needs a policies folder, a loader and a reconciler")
	}
	if o.Interval <= 0 {
		o.Interval = 5 * time.Minute
	}
	if o.WatchInterval <= 0 {
		o.WatchInterval = 5 * time.Second
	}
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = 10 * time.Second
	}
	s := &Server{opts: o, metrics: o.Metrics, log: o.Log, now: o.Now,
		reload: make(chan struct{}, 1), kick: make(chan struct{}, 1)}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Reload asks for the folder to be read again (SIGHUP).
func (s *Server) Reload() {
	select {
	case s.reload <- struct{}{}:
	default:
	}
}

// Run loads the folder, then watches it, probes the servers and campaigns
// for leadership until ctx is done. It returns when every part has stopped
// (the leader lock released).
func (s *Server) Run(ctx context.Context) error {
	s.loadIfChanged(true)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.watch(ctx) }()
	go func() { defer wg.Done(); s.probeLoop(ctx) }()
	var err error
	if s.opts.Elector == nil {
		s.lead(ctx)
	} else {
		err = s.opts.Elector.Run(ctx, s.lead)
	}
	wg.Wait()
	return err
}

// watch reloads on request and when the folder changes.
func (s *Server) watch(ctx context.Context) {
	t := time.NewTicker(s.opts.WatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.reload:
			s.log.Info("reloading the policies folder on request", "dir", s.opts.Dir)
			s.loadIfChanged(true)
		case <-t.C:
			s.loadIfChanged(false)
		}
	}
}

// loadIfChanged loads the folder when its content changed since the last
// attempt and then stayed the same for one more poll, so that a folder
// caught in the middle of being rewritten is not loaded (a truncated file
// can parse; with --prune that would delete); a load during which the
// folder changed is dropped, whatever it read. With force (start, SIGHUP)
// it loads at once (unless the folder changes during the load). A good load replaces the configuration in force and
// kicks the reconcile loop; a bad one is recorded and changes nothing else.
func (s *Server) loadIfChanged(force bool) {
	fp, err := fingerprint(s.opts.Dir)
	hash := fp.Stamp
	if !force {
		key := hash
		if err != nil {
			key = "error: " + err.Error() // reported once it persists
		}
		s.mu.Lock()
		same, settled := key == s.lastHash, key == s.pendHash
		s.pendHash = key
		s.mu.Unlock()
		if same || !settled {
			return
		}
	}
	var cfg *policy.Config
	if err == nil {
		cfg, err = s.opts.Load(s.opts.Dir)
		// Load read the folder again: a rewrite that began after the
		// fingerprint may have been read half-done, even when the folder
		// is back to the fingerprinted content now (the times of the
		// files differ then). Such a load is dropped, and the folder is
		// loaded once it has stayed the same for one more poll.
		after, aerr := fingerprint(s.opts.Dir)
		if aerr != nil || after.Stamp != hash {
			key := after.Stamp
			if aerr != nil {
				key = "error: " + aerr.Error()
			}
			s.mu.Lock()
			s.pendHash = key
			s.mu.Unlock()
			s.log.Info("the policies folder changed while it was read; it is read again once it stays the same",
				"dir", s.opts.Dir)
			return
		}
	}
	var doc []byte
	if err == nil {
		doc, err = renderDiscovery(cfg, s.opts.Public)
	}
	s.mu.Lock()
	s.lastHash = hash
	if hash == "" {
		s.lastHash = "error: " + err.Error()
	}
	if err != nil {
		s.loadErr = err
		s.mu.Unlock()
		s.metrics.ConfigValid.Set(0)
		s.metrics.Errors.WithLabelValues("load").Inc()
		s.log.Error("invalid policies folder; the last good configuration stays in force", "dir", s.opts.Dir, "err", err)
		return
	}
	s.loadErr = nil
	// A new generation when what Load read changed, not for a rewrite
	// with the same bytes.
	changed := s.cur == nil || s.cur.hash != fp.Content
	if changed {
		gen := int64(1)
		if s.cur != nil {
			gen = s.cur.generation + 1
		}
		s.cur = &state{cfg: cfg, generation: gen, hash: fp.Content, loadedAt: s.now(), discovery: doc}
	}
	gen := s.cur.generation
	s.mu.Unlock()
	s.metrics.ConfigValid.Set(1)
	// Load's warnings (a hidden *.hcl left out, an unused policy) are
	// shown on each load, as plan and apply print them.
	for _, w := range cfg.Warnings {
		s.log.Warn("warning from the policies folder", "dir", s.opts.Dir, "warning", w)
	}
	if changed {
		s.metrics.ConfigGeneration.Set(float64(gen))
		s.log.Info("loaded the policies folder", "dir", s.opts.Dir, "generation", gen, "profiles", len(cfg.Profiles))
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

func (s *Server) current() *state {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur
}

// probeLoop checks that the servers answer.
func (s *Server) probeLoop(ctx context.Context) {
	if s.opts.Prober == nil {
		return
	}
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		errs := s.opts.Prober.Probe(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		for _, sys := range Systems {
			if e, ok := errs[sys]; ok && e != nil {
				s.metrics.ServersUp.WithLabelValues(sys).Set(0)
				s.metrics.Errors.WithLabelValues("probe").Inc()
			} else {
				s.metrics.ServersUp.WithLabelValues(sys).Set(1)
			}
		}
		s.mu.Lock()
		s.probeErrs, s.probed = errs, true
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.opts.ProbeInterval):
		}
	}
}
