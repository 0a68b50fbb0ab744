package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/secret"
)

// DefaultConcurrency is how many calls Run has in flight per system.
const DefaultConcurrency = 16

// Options tune Run.
type Options struct {
	// Prune deletes managed objects that the files no longer declare.
	// Without it they are left, and reported in Result.Skipped.
	Prune bool
	// AllowMassDelete lets a pruning Run carry out a plan the mass-delete
	// guard (plan.Guard) calls a mass delete; without it Run stops with a
	// *MassDeleteError before writing anything.
	AllowMassDelete bool
	// DryRun reads and plans, and writes nothing.
	DryRun bool
	// Concurrency is the number of calls in flight per system
	// (DefaultConcurrency when 0).
	Concurrency int
	// Confirm, when set, is asked with the result so far (the plan, what
	// Warnings tells of) before anything is written; false ends Run with
	// ErrNotConfirmed.
	Confirm func(Result) (bool, error)
	// BeforeWrite, when set, is called before each change is written; an
	// error stops Run there. Tests use it to cut an apply short.
	BeforeWrite func(plan.Change) error
	// OIDCClientSecret, when set, gives the client secret of the
	// attended tiers' OIDC auth config (asked only when apply writes it);
	// else it is read from the environment or client_secret_file
	// (OIDCClientSecret, attended.go).
	OIDCClientSecret func() (secret.String, error)
}

// Result is what Run found and did.
type Result struct {
	Plan plan.Plan
	// Planned counts the changes of the plan per system, deletes included
	// even without Prune.
	Planned map[plan.System]plan.Counts
	// Applied counts the changes carried out per system.
	Applied map[plan.System]plan.Counts
	// Skipped are the deletes not carried out because Prune is off.
	Skipped []plan.Change
	// Writes and Reads count HTTP calls per system (a change can take more
	// than one write, e.g. a group and its alias).
	Writes map[plan.System]int
	Reads  map[plan.System]int
	// DefaultPolicy is what Vault's default policy grants every token on
	// the leases of the engines the profiles use (plan.CheckDefaultPolicy).
	DefaultPolicy plan.DefaultPolicyCheck
	// Unread are the systems the broker was given no client for
	// (ClientsFromEnv), so neither checked nor pruned there.
	Unread []Unread
}

// Unread is a system left unread, and what in Vault shows that the broker
// made objects there before: the managed Vault roles of its secrets
// engine (the broker makes a profile's nomad or consul role with the
// system's policies it grants).
type Unread struct {
	System   plan.System
	Evidence []plan.Key
}

// UnreadError is a pruning run refused because a system that shows objects
// of the broker's was not read: its objects would be left behind unseen.
type UnreadError struct{ Unread []Unread }

func (e *UnreadError) Error() string {
	var b strings.Builder
	b.WriteString("refusing to prune; nothing was changed:")
	for _, u := range e.Unread {
		if len(u.Evidence) == 0 {
			continue
		}
		v := envOf(u.System)
		names := make([]string, len(u.Evidence))
		for i, k := range u.Evidence {
			names[i] = k.String()
		}
		fmt.Fprintf(&b, "\n  %s was not read (%s or %s not set), but the broker made objects there: Vault still has the broker's %s. "+
			"A prune would delete those roles and leave the %s ACL policies the broker made unseen. "+
			"Set %s (or the address in the %s block of broker.hcl) and %s, so that apply --prune deletes them too; "+
			"or, if %s is gone for good, delete those Vault roles by hand",
			title(u.System), v.addr, v.token, strings.Join(names, ", "), title(u.System), v.addr, u.System, v.token, title(u.System))
	}
	return b.String()
}

// refusesPrune reports whether an unread system shows objects of the
// broker's.
func refusesPrune(unread []Unread) bool {
	for _, u := range unread {
		if len(u.Evidence) > 0 {
			return true
		}
	}
	return false
}

type serverEnv struct{ addr, token string }

func envOf(s plan.System) serverEnv {
	if s == plan.Consul {
		return serverEnv{"CONSUL_HTTP_ADDR", "CONSUL_HTTP_TOKEN"}
	}
	return serverEnv{"NOMAD_ADDR", "NOMAD_TOKEN"}
}

func title(s plan.System) string {
	switch s {
	case plan.Nomad:
		return "Nomad"
	case plan.Consul:
		return "Consul"
	}
	return "Vault"
}

// TotalWrites is the number of write calls made.
func (r Result) TotalWrites() int {
	n := 0
	for _, w := range r.Writes {
		n += w
	}
	return n
}

// ErrNotConfirmed is returned when Options.Confirm declines.
var ErrNotConfirmed = errors.New("apply not confirmed; nothing was changed")

// ConflictError lists desired objects whose names unmanaged objects hold.
type ConflictError struct{ Conflicts []plan.Conflict }

func (e *ConflictError) Error() string {
	lines := make([]string, len(e.Conflicts))
	for i, c := range e.Conflicts {
		lines[i] = "\n  " + c.String()
	}
	return fmt.Sprintf("%d name conflict(s) with objects the broker does not manage; nothing was changed:%s", len(e.Conflicts), strings.Join(lines, ""))
}

// MassDeleteError is a pruning plan that the mass-delete guard refused.
type MassDeleteError struct{ Guard plan.Guard }

func (e *MassDeleteError) Error() string {
	return fmt.Sprintf("refusing a mass delete (%s); nothing was changed; check the policies folder, and if the deletes are meant, run 'broker apply --prune --allow-mass-delete'", e.Guard)
}

// Run reads the live state, plans, and (unless DryRun) applies the plan.
// The returned Result is filled as far as Run got, also with an error.
func Run(ctx context.Context, cfg *policy.Config, clients Clients, opts Options) (res Result, err error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if err := clients.cover(cfg); err != nil {
		return res, err
	}
	s := newSession(cfg, clients, opts.Concurrency)
	s.secretSource = opts.OIDCClientSecret
	res.Applied = map[plan.System]plan.Counts{}
	defer func() { res.Writes, res.Reads = s.counts() }()

	desired := plan.Desired(cfg)
	live, taken, defaultPolicy, err := s.readLive(ctx, desired)
	if err != nil {
		return res, fmt.Errorf("could not read the live state: %w", err)
	}
	res.DefaultPolicy = checkDefaultPolicy(cfg, defaultPolicy)
	res.Unread = unread(clients, live)
	res.Plan = plan.Diff(desired, live, opts.Prune)
	res.Plan.AddConflicts(taken...)
	res.Planned = res.Plan.Counts()
	if len(res.Plan.Conflicts) > 0 {
		return res, &ConflictError{Conflicts: res.Plan.Conflicts}
	}
	todo, skipped := res.Plan.ToDo(opts.Prune)
	res.Skipped = skipped
	if opts.DryRun || len(todo) == 0 {
		return res, nil
	}
	if opts.Prune && refusesPrune(res.Unread) {
		return res, &UnreadError{Unread: res.Unread}
	}
	if g := res.Plan.Guard(); opts.Prune && g.Mass && !opts.AllowMassDelete {
		return res, &MassDeleteError{Guard: g}
	}
	if opts.Confirm != nil {
		ok, err := opts.Confirm(res)
		if err != nil {
			return res, err
		}
		if !ok {
			return res, ErrNotConfirmed
		}
	}
	var mu sync.Mutex
	err = s.write(ctx, todo, opts.BeforeWrite, func(c plan.Change) {
		mu.Lock()
		plan.Count(res.Applied, c)
		mu.Unlock()
	})
	return res, err
}

// session is one Run: the clients, the call counters and the concurrency
// limits.
type session struct {
	cfg     *policy.Config
	clients Clients
	// sems hold a slot per call in flight, up to the limit per system
	// (parallel).
	sems map[plan.System]chan struct{}

	reads, writes [3]atomic.Int64 // indexed by sysIndex
	accessor      string          // of the JWT auth mount, read by readLive
	mu            sync.Mutex

	// The OIDC client secret of the attended tiers, read once when
	// needed (attended.go).
	secretSource func() (secret.String, error)
	secret       secret.String
	secretErr    error
}

func newSession(cfg *policy.Config, c Clients, limit int) *session {
	s := &session{cfg: cfg, clients: c, sems: map[plan.System]chan struct{}{}}
	for _, sys := range plan.Systems {
		s.sems[sys] = make(chan struct{}, limit)
	}
	return s
}

func sysIndex(s plan.System) int {
	switch s {
	case plan.Nomad:
		return 0
	case plan.Consul:
		return 1
	}
	return 2
}

func (s *session) counts() (w, r map[plan.System]int) {
	w, r = map[plan.System]int{}, map[plan.System]int{}
	for _, sys := range plan.Systems {
		w[sys] = int(s.writes[sysIndex(sys)].Load())
		r[sys] = int(s.reads[sysIndex(sys)].Load())
	}
	return w, r
}

func (s *session) client(sys plan.System) *apiclient.Client {
	switch sys {
	case plan.Nomad:
		return s.clients.Nomad
	case plan.Consul:
		return s.clients.Consul
	}
	return s.clients.Vault
}

// parallel runs f(ctx, i) for i in [0, n) concurrently, each once a slot
// of its system (sysOf(i)) is free: at most the limit of calls in flight
// per system, across all the parallel calls of the session. before, when
// set, is called for each i, in order, before f(i) starts; its error
// stops the loop, and is returned once the calls started have ended. The
// first error of f cancels the others.
func (s *session) parallel(ctx context.Context, n int, sysOf func(int) plan.System, before func(int) error, f func(context.Context, int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	for i := range n {
		if before != nil {
			if err := before(i); err != nil {
				_ = g.Wait()
				return err
			}
		}
		sem := s.sems[sysOf(i)]
		select {
		case sem <- struct{}{}:
		case <-gctx.Done():
			return errors.Join(g.Wait(), ctx.Err())
		}
		g.Go(func() error {
			defer func() { <-sem }()
			return f(gctx, i)
		})
	}
	return g.Wait()
}

// get is a counted read.
func (s *session) get(ctx context.Context, sys plan.System, path string, out any) error {
	s.reads[sysIndex(sys)].Add(1)
	return s.client(sys).Do(ctx, "GET", path, nil, out)
}

// call is a counted write.
func (s *session) call(ctx context.Context, sys plan.System, method, path string, in, out any) error {
	s.writes[sysIndex(sys)].Add(1)
	return s.client(sys).Do(ctx, method, path, in, out)
}

// write carries out changes, step by step (plan.Steps); the writes of one
// step run concurrently, up to the limit per system.
func (s *session) write(ctx context.Context, changes []plan.Change, before func(plan.Change) error, done func(plan.Change)) error {
	for _, step := range plan.Steps(changes) {
		sysOf := func(i int) plan.System { return step[i].Change.System }
		var stop func(int) error
		if before != nil {
			stop = func(i int) error {
				if err := before(step[i].Change); err != nil {
					return fmt.Errorf("stopped before %s: %w", step[i].Change, err)
				}
				return nil
			}
		}
		err := s.parallel(ctx, len(step), sysOf, stop, func(ctx context.Context, i int) error {
			c := step[i].Change
			if err := s.apply(ctx, c); err != nil {
				return fmt.Errorf("could not %s: %w", c, err)
			}
			if step[i].Final {
				done(c)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// apply writes one change.
func (s *session) apply(ctx context.Context, c plan.Change) error {
	switch c.Kind {
	case plan.NomadPolicy:
		return s.applyNomadPolicy(ctx, c)
	case plan.ConsulPolicy:
		return s.applyConsulPolicy(ctx, c)
	case plan.VaultPolicy:
		return s.applyVaultPolicy(ctx, c)
	case plan.NomadRole, plan.ConsulRole, plan.JWTRole, plan.PKIRole,
		plan.AttendedNomadRole, plan.AttendedConsulRole, plan.OIDCRole:
		return s.applyVaultRole(ctx, c)
	case plan.OIDCConfig:
		return s.applyOIDCConfig(ctx, c) // attended.go
	case plan.JWTConfig:
		return s.applyJWTConfig(ctx, c)
	case plan.NomadLease:
		return s.applyNomadLease(ctx, c)
	case plan.Group:
		return s.applyGroup(ctx, c)
	case plan.NomadAuthMethod:
		return s.applyNomadAuthMethod(ctx, c)
	case plan.ConsulAuthMethod:
		return s.applyConsulAuthMethod(ctx, c)
	case plan.ConsulACLRole:
		return s.applyConsulACLRole(ctx, c)
	case plan.NomadBindingRule, plan.ConsulBindingRule:
		return s.applyBindingRule(ctx, c)
	}
	return fmt.Errorf("unknown kind %q", c.Kind)
}

// readLive reads every object the broker may own or that desired names,
// with at most the limit of reads in flight per system, and has
// plan.Owner judge each. taken are the desired objects that an object of
// another name stands in the way of (the alias of a desired group held by
// another group).
func (s *session) readLive(ctx context.Context, desired []plan.Object) (live []plan.Object, taken []plan.Conflict, defaultPolicy *string, err error) {
	r := &reader{s: s, owner: plan.NewOwner(s.cfg.Vault, desired), desired: desired}
	g, gctx := errgroup.WithContext(ctx)
	if s.clients.Nomad != nil {
		g.Go(func() error { return r.nomadPolicies(gctx) })
		g.Go(func() error { return r.nomadDirect(gctx) }) // direct.go
	}
	if s.clients.Consul != nil {
		g.Go(func() error { return r.consulPolicies(gctx) })
		g.Go(func() error { return r.consulDirect(gctx) })
	}
	g.Go(func() error { return r.vault(gctx) })
	if err := g.Wait(); err != nil {
		return nil, nil, nil, err
	}
	plan.SortObjects(r.out)
	return r.out, r.taken, r.defaultPolicy, nil
}

// checkDefaultPolicy checks Vault's default policy (text; nil: Vault
// listed none) on the leases of the engines the profiles grant tokens of.
func checkDefaultPolicy(cfg *policy.Config, text *string) plan.DefaultPolicyCheck {
	var mounts []string
	if cfg.GrantsNomad() {
		mounts = append(mounts, cfg.Vault.NomadMount)
	}
	if cfg.GrantsConsul() {
		mounts = append(mounts, cfg.Vault.ConsulMount)
	}
	if text == nil {
		// No default policy: Vault always has one, but then no token
		// gets it either.
		return plan.DefaultPolicyCheck{}
	}
	return plan.CheckDefaultPolicy(*text, mounts)
}

// unread lists the systems the clients leave out, each with the managed
// Vault roles of its engine among live.
func unread(c Clients, live []plan.Object) []Unread {
	var out []Unread
	for _, u := range []struct {
		sys    plan.System
		client *apiclient.Client
		role   []plan.Kind
	}{{plan.Nomad, c.Nomad, []plan.Kind{plan.NomadRole, plan.AttendedNomadRole}}, {plan.Consul, c.Consul, []plan.Kind{plan.ConsulRole, plan.AttendedConsulRole}}} {
		if u.client != nil {
			continue
		}
		un := Unread{System: u.sys}
		for _, o := range live {
			if slices.Contains(u.role, o.Kind) && o.Managed {
				un.Evidence = append(un.Evidence, o.Key())
			}
		}
		out = append(out, un)
	}
	return out
}

// reader collects live objects.
type reader struct {
	s       *session
	owner   *plan.Owner
	desired []plan.Object

	mu            sync.Mutex
	out           []plan.Object
	taken         []plan.Conflict
	defaultPolicy *string // Vault's default policy, as read
}

// add adds o, as judged, to the live state if it is kept.
func (r *reader) add(o plan.Object, keep bool) {
	if !keep {
		return
	}
	r.mu.Lock()
	r.out = append(r.out, o)
	r.mu.Unlock()
}

// each runs f for every name, up to the system's limit at a time.
func (r *reader) each(ctx context.Context, sys plan.System, names []string, f func(context.Context, string) error) error {
	return r.s.parallel(ctx, len(names), func(int) plan.System { return sys }, nil, func(ctx context.Context, i int) error {
		return f(ctx, names[i])
	})
}
