package session

import (
	"fmt"
	"time"

	"github.com/alisw/alilogin/internal/store"
)

// capMinTTL lowers a --min-ttl that no token of the profile can meet: at
// or above the validity the servers grant its tokens (the TTL of the
// Vault token, which every other token dies with, and of each token of
// kinds), every call would renew, re-mint and finally log in again,
// revoking the tokens other shells hold. It is lowered to half the
// shortest such TTL, so that a token is renewed once half its life is
// gone. ttl is that TTL; capped says whether minTTL was lowered. A
// record that does not know its TTLs (written by an earlier alilogin,
// or holding only a refresh token) leaves minTTL as it is.
func capMinTTL(rec *store.Record, kinds []store.Kind, minTTL time.Duration) (capped bool, use, ttl time.Duration) {
	for _, k := range append([]store.Kind{store.Vault}, kinds...) {
		if t := rec.Token(k); t != nil && t.TTL > 0 && (ttl == 0 || t.TTL < ttl) {
			ttl = t.TTL
		}
	}
	if ttl == 0 || minTTL < ttl {
		return false, minTTL, ttl
	}
	return true, ttl / 2, ttl
}

// minTTLFor is capMinTTL that says, once per Session, on stderr when it
// lowers minTTL.
func (s *Session) minTTLFor(rec *store.Record, kinds []store.Kind, minTTL time.Duration) time.Duration {
	capped, use, ttl := capMinTTL(rec, kinds, minTTL)
	if capped && !s.minTTLSaid {
		s.minTTLSaid = true
		fmt.Fprintf(s.Env.stderr(), "alilogin: --min-ttl %s is not below the %s the tokens of profile %s are given; using %s\n",
			minTTL, ttl, s.Profile, use)
	}
	return use
}
