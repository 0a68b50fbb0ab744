package store

import "time"

// CappedBy returns a copy of t (a Nomad or Consul token) whose expiry is
// no later than that of parent, the Vault token it was minted or renewed
// with: Vault revokes a token's leases when the token expires, whatever
// the lease's own TTL says (Vault's nomad engine, for one, gives its
// leases the mount's default of 768 h unless <mount>/config/lease is
// set). ExpiresAt is bounded by parent.ExpiresAt and MaxExpiresAt by
// parent.MaxExpiresAt, each only when the parent's is known. A nil t or
// parent gives t back unchanged.
//
// Login and the renewal chain both call it on every token they mint or
// renew, so that login's summary, status and token agree.
func (t *Token) CappedBy(parent *Token) *Token {
	if t == nil || parent == nil {
		return t
	}
	cp := *t
	cp.ExpiresAt = earliest(cp.ExpiresAt, parent.ExpiresAt)
	cp.MaxExpiresAt = earliest(cp.MaxExpiresAt, parent.MaxExpiresAt)
	return &cp
}

// earliest is the earlier of a and bound, where a zero time is unknown:
// a zero bound leaves a, a zero a takes the bound.
func earliest(a, bound time.Time) time.Time {
	if bound.IsZero() || (!a.IsZero() && a.Before(bound)) {
		return a
	}
	return bound
}
