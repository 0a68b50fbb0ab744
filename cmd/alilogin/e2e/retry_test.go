package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/teststack"
)

func isRenewSelf(r *http.Request) bool { return r.URL.Path == "/v1/auth/token/renew-self" }

// count is how many requests of the front match since the first skip ones.
func count(front *hostile.FlakyProxy, skip int, match func(path string) bool) int {
	n := 0
	for _, r := range front.Requests()[skip:] {
		if match(r.Path) {
			n++
		}
	}
	return n
}

// TestTokenRenewalRetriesTransientVaultErrors: the real Vault behind a
// front that answers 503 to the first renew-self requests, as a Vault
// between leaders or its load balancer does. `alilogin token --for vault`
// with a token that needs renewal tries renew-self again and gets the
// same token renewed: no new login (which would revoke the tokens other
// shells hold). A sealed Vault's 503 is not tried again.
func TestTokenRenewalRetriesTransientVaultErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	profile := sessionProfile(t, ctx, "1h", teststack.Mounts{}, "retry-users")
	front, err := hostile.NewFlakyProxy(stack.Vault.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(front.Close)
	u := sessionUser(t, profile, teststack.Mounts{})
	u.env["VAULT_ADDR"] = front.URL
	seed(t, ctx, u, profile, "retry-users")
	tok := tokenOut(u.ok(t, "token", "--for", "vault")) // logged in through the front
	// nearExpiry makes the stored Vault token due for renewal.
	nearExpiry := func() {
		t.Helper()
		rec := mustRecord(t, u, profile)
		rec.Vault.ExpiresAt = time.Now().Add(time.Minute)
		putRecord(t, u, rec)
	}
	isLogin := func(p string) bool { return strings.HasPrefix(p, "/v1/auth/") && strings.HasSuffix(p, "/login") }

	t.Run("503 then the real Vault", func(t *testing.T) {
		nearExpiry()
		before := len(front.Requests())
		fault := front.Fail(isRenewSelf, 2, http.StatusServiceUnavailable, `{"errors":["no active Vault instance found"]}`)
		p := u.run(t, "token", "--for", "vault", "-v")
		if p.code() != 0 || tokenOut(p) != tok {
			t.Fatalf("exit %d, the same token %v; want 0 and the token renewed\nstderr:\n%s", p.code(), tokenOut(p) == tok, p.stderr.String())
		}
		renews := count(front, before, func(p string) bool { return p == "/v1/auth/token/renew-self" })
		if front.Served(fault) != 2 || renews != 3 || count(front, before, isLogin) != 0 {
			t.Errorf("503s %d, renew-self requests %d, logins %d; want 2, 3 and no new login", front.Served(fault), renews, count(front, before, isLogin))
		}
		rec := mustRecord(t, u, profile)
		if left := time.Until(rec.Vault.ExpiresAt); left < 30*time.Minute {
			t.Errorf("stored Vault token valid for %s after the renewal", left.Round(time.Second))
		}
	})

	t.Run("sealed: not tried again", func(t *testing.T) {
		nearExpiry()
		before := len(front.Requests())
		// Sealed for good (this subtest is the last): every request to
		// Vault gets the sealed answer.
		fault := front.Fail(func(*http.Request) bool { return true }, 1000, http.StatusServiceUnavailable, `{"errors":["Vault is sealed"]}`)
		p := u.run(t, "token", "--for", "vault")
		renews := count(front, before, func(p string) bool { return p == "/v1/auth/token/renew-self" })
		logins := count(front, before, isLogin)
		if p.code() == 0 || renews != 1 || logins > 1 || front.Served(fault) != len(front.Requests())-before {
			t.Errorf("exit %d, renew-self requests %d, logins %d; want a failure after one renew-self and at most one login\nstderr:\n%s",
				p.code(), renews, logins, p.stderr.String())
		}
	})
}
