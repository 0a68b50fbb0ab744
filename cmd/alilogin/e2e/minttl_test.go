package e2e

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestMinTTLAboveProfileTTLIsCapped: `token --min-ttl 2h` on a profile
// whose tokens get 1h cannot be met by any renewal. It is lowered to
// half the TTL and said once on stderr; the second call uses the token
// the first got (the same Vault token: no new login, which would revoke
// the tokens of every other shell), where it used to log in again on
// every call.
func TestMinTTLAboveProfileTTLIsCapped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile, _ := seededUser(t, ctx, "1h", "minttl-users")

	var accessors []string
	for i := range 3 {
		p := u.run(t, "token", "--for", "nomad", "--min-ttl", "2h")
		if p.code() != 0 {
			t.Fatalf("call %d: exit %d\n%s", i, p.code(), p.stderr.String())
		}
		said := strings.Count(p.stderr.String(), "--min-ttl 2h0m0s is not below the 1h0m0s the tokens of profile "+profile+" are given; using 30m0s")
		if want := min(i, 1); said != want { // the first call logs in from the refresh token: the TTL is not known yet
			t.Errorf("call %d: the lowered --min-ttl said %d times, want %d; stderr:\n%s", i, said, want, p.stderr.String())
		}
		rec := mustRecord(t, u, profile)
		accessors = append(accessors, rec.Vault.Accessor)
	}
	if accessors[1] != accessors[0] || accessors[2] != accessors[0] {
		t.Errorf("a new Vault login on each call (accessors %v): --min-ttl above the TTL was not capped", accessors)
	}
}
