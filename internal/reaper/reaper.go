package reaper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
)

// DefaultGrace is added to a profile's max TTL before a token counts as
// orphaned.
const DefaultGrace = time.Hour

// Reaper finds and deletes orphaned tokens in Nomad and Consul.
type Reaper struct {
	Vault  *apiclient.Client // required: where the leases are checked
	Nomad  *apiclient.Client // nil: skip Nomad
	Consul *apiclient.Client // nil: skip Consul
	Grace  time.Duration     // DefaultGrace if zero
	DryRun bool              // report, delete nothing
	Now    func() time.Time  // the clock; nil: time.Now
	Log    *slog.Logger      // nil: discard

	mu     sync.Mutex
	issued map[string]time.Time // lease issue times from earlier passes
}

// Token is an orphan found (and deleted unless DryRun).
type Token struct {
	System   string // "nomad" or "consul"
	Accessor string
	Name     string // Nomad name or Consul description
	Profile  string
	Age      time.Duration
	Why      string
	Deleted  bool
}

// Result is one pass.
type Result struct {
	Orphans []Token
	// Examined counts the tokens looked at per system.
	Examined map[string]int
}

// Deleted counts the tokens deleted per system.
func (r Result) Deleted() map[string]int {
	m := map[string]int{}
	for _, t := range r.Orphans {
		if t.Deleted {
			m[t.System]++
		}
	}
	return m
}

func (r *Reaper) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reaper) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

func (r *Reaper) grace() time.Duration {
	if r.Grace <= 0 {
		return DefaultGrace
	}
	return r.Grace
}

// system is what differs between Nomad and Consul.
type system struct {
	name   string
	client *apiclient.Client
	format format
	grant  func(Profile) Grant
	list   func(ctx context.Context, c *apiclient.Client) ([]token, error)
}

// Reap makes one pass over both systems for the given managed profiles.
// An error in one system does not stop the other; the errors are joined.
func (r *Reaper) Reap(ctx context.Context, profiles []Profile) (Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := Result{Examined: map[string]int{}}
	if r.Vault == nil {
		return res, errors.New("could not reap: no Vault client to check leases with")
	}
	l := newLeases(r.Vault, r.issued)
	var (
		errs   []error
		byType map[string][]string
	)
	for _, s := range []system{
		{"nomad", r.Nomad, nomadFormat, func(p Profile) Grant { return p.Nomad }, listNomad},
		{"consul", r.Consul, consulFormat, func(p Profile) Grant { return p.Consul }, listConsul},
	} {
		if s.client == nil {
			continue
		}
		if byType == nil {
			// Once a pass: without the engines, nothing can be shown
			// orphaned.
			var err error
			if byType, err = readMounts(ctx, r.Vault); err != nil {
				return res, fmt.Errorf("could not reap: %w", err)
			}
		}
		if err := r.reap(ctx, s, profiles, l, newEngines(s.name, byType), &res); err != nil {
			errs = append(errs, err)
		}
	}
	r.issued = l.next()
	return res, errors.Join(errs...)
}

func (r *Reaper) reap(ctx context.Context, s system, profiles []Profile, l *leases, eng *engines, res *Result) error {
	sys := strings.ToUpper(s.name[:1]) + s.name[1:]
	// The roles the broker made for the profiles granting this system, by
	// mount; each such mount must be an engine of this type.
	managed := map[string]map[string]bool{}
	var mounts []string
	for _, p := range profiles {
		g := s.grant(p)
		if p.Name == "" || !g.grants() {
			continue
		}
		g.Mount = mountKey(g.Mount)
		if managed[g.Mount] == nil {
			managed[g.Mount] = map[string]bool{}
			mounts = append(mounts, g.Mount)
		}
		managed[g.Mount][p.Name] = true
	}
	if len(mounts) == 0 {
		return nil // no profile grants this system: nothing of it is reaped
	}
	if err := eng.check(mounts); err != nil {
		return err
	}
	var self struct{ AccessorID string }
	if err := s.client.Do(ctx, http.MethodGet, "/v1/acl/token/self", nil, &self); err != nil {
		return fmt.Errorf("could not read the reaper's own %s token: %w", sys, err)
	}
	// Tokens first, leases after: a lease Vault registers in between is
	// seen, never missed.
	tokens, err := s.list(ctx, s.client)
	if err != nil {
		return fmt.Errorf("could not list %s ACL tokens: %w", sys, err)
	}
	res.Examined[s.name] += len(tokens)
	now := r.now()
	var errs []error
	for _, t := range tokens {
		if t.Accessor == self.AccessorID {
			continue
		}
		c, ok := match(t, s.format, s.grant, profiles, now, r.grace())
		if !ok {
			continue
		}
		why, err := eng.ambiguous(ctx, r.Vault, c, s.format, managed[mountKey(c.Mount)])
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		if why != "" {
			r.log().Debug("token kept: another Vault role may have made it", "system", s.name,
				"accessor", t.Accessor, "name", t.Label, "profile", c.Profile.Name, "why", why)
			continue
		}
		live, err := l.live(ctx, c, s.format, eng.mounts)
		if err != nil {
			// Without the leases, nothing of this system can be shown
			// orphaned.
			return errors.Join(append(errs, err)...)
		}
		if live {
			r.log().Debug("token kept: Vault has a lease issued when it was made", "system", s.name,
				"accessor", t.Accessor, "name", t.Label, "profile", c.Profile.Name)
			continue
		}
		why = fmt.Sprintf("made by Vault for profile %s (name time %s, created %s, policies %v), its name fits no other role of the %s engines, no lease under %s issued then, older than max TTL + grace",
			c.Profile.Name, c.MadeAt.UTC().Format(time.RFC3339Nano), c.Created.UTC().Format(time.RFC3339Nano), c.Policies, s.name, credsOf(eng.mounts))
		tok := Token{System: s.name, Accessor: t.Accessor, Name: t.Label, Profile: c.Profile.Name, Age: c.Age, Why: why}
		if !r.DryRun {
			err := s.client.Do(ctx, http.MethodDelete, "/v1/acl/token/"+url.PathEscape(t.Accessor), nil, nil)
			if err != nil && apiclient.StatusOf(err) != http.StatusNotFound {
				errs = append(errs, fmt.Errorf("could not delete %s token %s: %w", sys, t.Accessor, err))
				continue
			}
			tok.Deleted = true
		}
		r.log().Info("orphaned token", "system", s.name, "accessor", t.Accessor, "name", t.Label,
			"profile", c.Profile.Name, "age", c.Age.Round(time.Second).String(), "why", why,
			"deleted", tok.Deleted, "dry_run", r.DryRun)
		res.Orphans = append(res.Orphans, tok)
	}
	return errors.Join(errs...)
}

// credsOf names the lease folders of mounts for a log line.
func credsOf(mounts []string) string {
	out := make([]string, len(mounts))
	for i, m := range mounts {
		out[i] = m + "/creds/"
	}
	return strings.Join(out, ", ")
}

func listNomad(ctx context.Context, c *apiclient.Client) ([]token, error) {
	var list []struct {
		AccessorID     string
		Name           string
		Type           string
		Policies       []string
		Roles          []struct{ ID, Name string }
		CreateTime     time.Time
		ExpirationTime *time.Time
	}
	if err := c.Do(ctx, http.MethodGet, "/v1/acl/tokens", nil, &list); err != nil {
		return nil, err
	}
	out := make([]token, 0, len(list))
	for _, t := range list {
		out = append(out, token{Accessor: t.AccessorID, Label: t.Name, Created: t.CreateTime,
			Client: t.Type == "client" && len(t.Roles) == 0, Management: t.Type == "management" && len(t.Roles) == 0,
			Policies: t.Policies, Expires: t.ExpirationTime != nil && !t.ExpirationTime.IsZero()})
	}
	return out, nil
}

// consulManagement is the ID of Consul's built-in global-management policy.
const consulManagement = "00000000-0000-0000-0000-000000000001"

func listConsul(ctx context.Context, c *apiclient.Client) ([]token, error) {
	type link struct{ ID, Name string }
	var list []struct {
		AccessorID        string
		Description       string
		Policies          []link
		Roles             []link
		ServiceIdentities []struct{ ServiceName string }
		NodeIdentities    []struct{ NodeName string }
		TemplatedPolicies []struct{ TemplateName string }
		AuthMethod        string
		CreateTime        time.Time
		ExpirationTime    *time.Time
	}
	if err := c.Do(ctx, http.MethodGet, "/v1/acl/tokens", nil, &list); err != nil {
		return nil, err
	}
	out := make([]token, 0, len(list))
	for _, t := range list {
		client := len(t.Roles) == 0 && len(t.ServiceIdentities) == 0 && len(t.NodeIdentities) == 0 &&
			len(t.TemplatedPolicies) == 0 && t.AuthMethod == ""
		var names []string
		for _, p := range t.Policies {
			if p.ID == consulManagement || p.Name == "global-management" || p.Name == "" {
				client = false
			}
			names = append(names, p.Name)
		}
		out = append(out, token{Accessor: t.AccessorID, Label: t.Description, Created: t.CreateTime,
			Client: client, Policies: names, Expires: t.ExpirationTime != nil && !t.ExpirationTime.IsZero()})
	}
	return out, nil
}
