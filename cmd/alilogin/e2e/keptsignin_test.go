package e2e

// A sign-in that a login took but could not turn into a stored login is
// revoked at the SSO, never left alive with nobody holding it.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
)

// TestFailedLoginRevokesKeptSignIn: a sign-in kept by a login (the roles
// allow several profiles, no terminal) is taken out of the store by the
// next login; when that login fails (`login --profile C` for a profile
// the roles do not allow: Vault refuses), the kept sign-in is neither
// stored nor kept again, so its refresh token is revoked: the real Hydra
// refuses it afterwards.
func TestFailedLoginRevokesKeptSignIn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	a := newProfile(t, ctx, "ksr-a")
	b := newProfile(t, ctx, "ksr-b")
	c := newProfile(t, ctx, "ksr-c")
	name, pw := newUserAccount("ksr-a", "ksr-b")
	u := newUser(t)
	u.writeConfig(t, fmt.Sprintf("profile %q {\n  roles = [\"ksr-a\"]\n}\nprofile %q {\n  roles = [\"ksr-b\"]\n}\nprofile %q {\n  roles = [\"ksr-c\"]\n}\n", a, b, c))
	dropPendingAtEnd(t, u)
	forgetAtEnd(t, u, a, b, c)

	if p, _ := login(t, ctx, u, name, pw); p.code() != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", p.code(), p.stderr.String())
	}
	kept, err := pendingOf(t, u)
	if err != nil {
		t.Fatalf("no sign-in kept after a login that allowed several profiles: %v", err)
	}
	p := u.start(t, "login", "--no-browser", "--listen", "127.0.0.1:0", "--timeout", "20s", "--profile", c)
	code, err := p.wait(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if code == 0 {
		t.Fatalf("login to a profile the roles do not allow succeeded:\n%s", p.stderr.String())
	}
	if _, err := pendingOf(t, u); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the kept sign-in is still kept after a login refused for the roles: %v", err)
	}
	if _, err := stack.Hydra.Refresh(ctx, stack.Hydra.ClientID, kept.RefreshToken.Reveal()); err == nil {
		t.Errorf("the SSO still honours the refresh token of the kept sign-in that a failed login took (neither stored, kept, nor revoked)")
	}
}
