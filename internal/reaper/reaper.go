package reaper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
)

// DefaultGrace is added to a profile's max TTL before a token counts as
// orphaned.
const DefaultGrace = time.Hour

// Reaper finds and deletes orphaned tokens in Nomad and Consul.
type Reaper struct {
	Nomad  *apiclient.Client // nil: skip Nomad
	Consul *apiclient.Client // nil: skip Consul
	Grace  time.Duration     // DefaultGrace if zero
	DryRun bool              // report, delete nothing
	Now    func() time.Time  // the clock; nil: time.Now
	Log    *slog.Logger      // nil: discard
}

// Token is an orphan found (and deleted unless DryRun).
type Token struct {
	System   string // "nomad" or "consul"
	Accessor string
	Name     string // Nomad name or Consul description
	Profile  string
	Age      time.Duration
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

// Reap makes one pass over both systems for the given managed profiles.
// An error in one system does not stop the other; the errors are joined.
func (r *Reaper) Reap(ctx context.Context, profiles []Profile) (Result, error) {
	res := Result{Examined: map[string]int{}}
	var errs []error
	if r.Nomad != nil {
		if err := r.reapNomad(ctx, profiles, &res); err != nil {
			errs = append(errs, err)
		}
	}
	if r.Consul != nil {
		if err := r.reapConsul(ctx, profiles, &res); err != nil {
			errs = append(errs, err)
		}
	}
	return res, errors.Join(errs...)
}

type nomadToken struct {
	AccessorID string
	Name       string
	Type       string
	CreateTime time.Time
}

func (r *Reaper) reapNomad(ctx context.Context, profiles []Profile, res *Result) error {
	var self nomadToken
	if err := r.Nomad.Do(ctx, http.MethodGet, "/v1/acl/token/self", nil, &self); err != nil {
		return fmt.Errorf("could not read the reaper's own Nomad token: %w", err)
	}
	var tokens []nomadToken
	if err := r.Nomad.Do(ctx, http.MethodGet, "/v1/acl/tokens", nil, &tokens); err != nil {
		return fmt.Errorf("could not list Nomad ACL tokens: %w", err)
	}
	res.Examined["nomad"] += len(tokens)
	var errs []error
	for _, t := range tokens {
		if t.AccessorID == self.AccessorID || t.CreateTime.IsZero() {
			continue
		}
		p, ok := NomadProfile(t.Name, profiles)
		if !ok {
			continue
		}
		age := r.now().Sub(t.CreateTime)
		if age <= p.MaxTTL+r.grace() {
			continue
		}
		tok := Token{System: "nomad", Accessor: t.AccessorID, Name: t.Name, Profile: p.Name, Age: age}
		if !r.DryRun {
			err := r.Nomad.Do(ctx, http.MethodDelete, "/v1/acl/token/"+url.PathEscape(t.AccessorID), nil, nil)
			if err != nil && apiclient.StatusOf(err) != http.StatusNotFound {
				errs = append(errs, fmt.Errorf("could not delete Nomad token %s: %w", t.AccessorID, err))
				continue
			}
			tok.Deleted = true
		}
		r.log().Info("orphaned token", "system", "nomad", "accessor", t.AccessorID, "name", t.Name,
			"profile", p.Name, "age", age.Round(time.Second).String(), "deleted", tok.Deleted, "dry_run", r.DryRun)
		res.Orphans = append(res.Orphans, tok)
	}
	return errors.Join(errs...)
}

type consulToken struct {
	AccessorID  string
	Description string
	CreateTime  time.Time
}

func (r *Reaper) reapConsul(ctx context.Context, profiles []Profile, res *Result) error {
	var self consulToken
	if err := r.Consul.Do(ctx, http.MethodGet, "/v1/acl/token/self", nil, &self); err != nil {
		return fmt.Errorf("could not read the reaper's own Consul token: %w", err)
	}
	var tokens []consulToken
	if err := r.Consul.Do(ctx, http.MethodGet, "/v1/acl/tokens", nil, &tokens); err != nil {
		return fmt.Errorf("could not list Consul ACL tokens: %w", err)
	}
	res.Examined["consul"] += len(tokens)
	var errs []error
	for _, t := range tokens {
		if t.AccessorID == self.AccessorID || t.CreateTime.IsZero() {
			continue
		}
		p, ok := ConsulProfile(t.Description, profiles)
		if !ok {
			continue
		}
		age := r.now().Sub(t.CreateTime)
		if age <= p.MaxTTL+r.grace() {
			continue
		}
		tok := Token{System: "consul", Accessor: t.AccessorID, Name: t.Description, Profile: p.Name, Age: age}
		if !r.DryRun {
			err := r.Consul.Do(ctx, http.MethodDelete, "/v1/acl/token/"+url.PathEscape(t.AccessorID), nil, nil)
			if err != nil && apiclient.StatusOf(err) != http.StatusNotFound {
				errs = append(errs, fmt.Errorf("could not delete Consul token %s: %w", t.AccessorID, err))
				continue
			}
			tok.Deleted = true
		}
		r.log().Info("orphaned token", "system", "consul", "accessor", t.AccessorID, "description", t.Description,
			"profile", p.Name, "age", age.Round(time.Second).String(), "deleted", tok.Deleted, "dry_run", r.DryRun)
		res.Orphans = append(res.Orphans, tok)
	}
	return errors.Join(errs...)
}
