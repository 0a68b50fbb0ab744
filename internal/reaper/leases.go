package reaper

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
)

// The window of a lease's issue time around the time in a token's label
// for the lease to count as the token's. A Nomad or Consul call of Vault's
// takes milliseconds; the window is wide for slow calls and a wall clock
// stepped back. A lease of another token made in the window also keeps a
// candidate, until that lease ends: in doubt, a token is kept.
const (
	LeaseBefore = time.Second
	LeaseAfter  = 2 * time.Minute
)

// leases answers, for one pass, whether Vault holds a lease that may be
// the one of a token. Vault lists the leases of a prefix
// (LIST sys/leases/lookup/<mount>/creds/<role>/) and tells a lease's issue
// time (sys/leases/lookup); the lease of a token is issued right after the
// token is made. Every role folder with leases under <mount>/creds/ of
// every engine of the token's type whose label prefix the token has is
// looked at, managed or not, so that a token of another Vault role whose
// name extends a profile's ("ci" and role "ci-x"), or of a role of the
// same name on another engine, is never taken for an orphan of the
// profile.
//
// Issue times never change, so they are kept between passes (cache) and
// only new leases are looked up: a pass with no candidate costs nothing in
// Vault, one with candidates a LIST per role folder plus a lookup per new
// lease.
type leases struct {
	vault *apiclient.Client
	cache map[string]time.Time // lease id -> issue time, from earlier passes
	seen  map[string]time.Time // what this pass saw: the next cache
	roles map[string][]string  // mount -> role folders with leases
	times map[string][]time.Time
}

func newLeases(vault *apiclient.Client, cache map[string]time.Time) *leases {
	return &leases{vault: vault, cache: cache, seen: map[string]time.Time{},
		roles: map[string][]string{}, times: map[string][]time.Time{}}
}

type listed struct {
	Data struct {
		Keys []string `json:"keys"`
	} `json:"data"`
}

// list returns the keys under a LIST of sys/leases/lookup/<prefix>/; none
// when Vault has nothing there (404).
func (l *leases) list(ctx context.Context, prefix string) ([]string, error) {
	var out listed
	err := l.vault.Do(ctx, "LIST", "/v1/sys/leases/lookup/"+apiclient.EscapePath(prefix)+"/", nil, &out)
	if apiclient.StatusOf(err) == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("could not list the Vault leases of %s/: %w", prefix, err)
	}
	return out.Data.Keys, nil
}

// issued returns the issue times of the leases of mount/creds/role.
func (l *leases) issued(ctx context.Context, mount, role string) ([]time.Time, error) {
	prefix := mount + "/creds/" + role
	if ts, ok := l.times[prefix]; ok {
		return ts, nil
	}
	keys, err := l.list(ctx, prefix)
	if err != nil {
		return nil, err
	}
	var ts []time.Time
	for _, k := range keys {
		id := prefix + "/" + k
		t, ok := l.cache[id]
		if !ok {
			var out struct {
				Data struct {
					IssueTime time.Time `json:"issue_time"`
				} `json:"data"`
			}
			err := l.vault.Do(ctx, http.MethodPut, "/v1/sys/leases/lookup", map[string]string{"lease_id": id}, &out)
			if apiclient.StatusOf(err) == http.StatusBadRequest || apiclient.StatusOf(err) == http.StatusNotFound {
				continue // revoked since the list: gone
			}
			if err != nil {
				return nil, fmt.Errorf("could not look up Vault lease %s: %w", id, err)
			}
			if t = out.Data.IssueTime; t.IsZero() {
				return nil, fmt.Errorf("could not look up Vault lease %s: no issue time", id)
			}
		}
		l.seen[id] = t
		ts = append(ts, t)
	}
	l.times[prefix] = ts
	return ts, nil
}

// live reports whether Vault holds a lease, under any of mounts (every
// engine of c's type: a label does not name its mount), of any role c's
// label could have been made for, issued when c was made: from
// LeaseBefore before the time in its label to LeaseAfter after it. Both
// times are Vault's clock: the engine takes the time for the label, has
// the token made, then Vault registers the lease. The mounts are engines
// Vault lists (sys/mounts), so a 404 under one means it has no lease.
func (l *leases) live(ctx context.Context, c candidate, f format, mounts []string) (bool, error) {
	for _, mount := range mounts {
		roles, ok := l.roles[mount]
		if !ok {
			keys, err := l.list(ctx, mount+"/creds")
			if err != nil {
				return false, err
			}
			for _, k := range keys {
				roles = append(roles, strings.TrimSuffix(k, "/"))
			}
			l.roles[mount] = roles
		}
		for _, role := range roles {
			if role == "" || !strings.HasPrefix(c.Label, f.rolePrefix(role)) {
				continue
			}
			ts, err := l.issued(ctx, mount, role)
			if err != nil {
				return false, err
			}
			for _, t := range ts {
				if d := t.Sub(c.MadeAt); d >= -LeaseBefore && d <= LeaseAfter {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// next is the cache for the next pass: the issue times of the leases this
// pass saw, and those of earlier passes under prefixes it did not list.
func (l *leases) next() map[string]time.Time {
	out := l.seen
	for id, t := range l.cache {
		i := strings.LastIndexByte(id, '/')
		if _, listed := l.times[id[:max(i, 0)]]; !listed {
			out[id] = t
		}
	}
	return out
}
