package e2e

// The profile of a login: chosen before the sign-in or asked right
// after it, never a sign-in for nothing, and a sign-in kept for the next
// login when none could be chosen.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/store"
)

// pendingOf is the sign-in kept in u's store, or ErrNotFound.
func pendingOf(t *testing.T, u *user) (*store.Pending, error) {
	t.Helper()
	st, err := store.Open("", u.getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := store.PendingOf(st)
	return ps.GetPending()
}

// dropPendingAtEnd removes, when the test ends, a sign-in it left kept:
// the keyring is the test stack's, shared by the tests, and the next
// test's login would use it.
func dropPendingAtEnd(t *testing.T, u *user) {
	t.Cleanup(func() {
		st, err := store.Open("", u.getenv, nil)
		if err != nil {
			return
		}
		ps, _ := store.PendingOf(st)
		_ = ps.DeletePending()
	})
}

// forgetAtEnd deletes the stored logins of profiles when the test ends.
func forgetAtEnd(t *testing.T, u *user, profiles ...string) {
	t.Cleanup(func() {
		st, _ := store.Open("", u.getenv, nil)
		for _, p := range profiles {
			_ = st.Delete(p)
		}
	})
}

// TestLoginNeedsProfileBeforeSignIn: with the minimal configuration (no
// profile blocks, no broker, no --profile), login fails at once, exit 2,
// saying how to pick one, before any browser or device flow: no URL is
// printed and no sign-in is waited for.
func TestLoginNeedsProfileBeforeSignIn(t *testing.T) {
	for _, flow := range [][]string{{"--no-browser", "--listen", "127.0.0.1:0"}, {"--device"}} {
		t.Run(flow[0], func(t *testing.T) {
			u := newUser(t)
			start := time.Now()
			p := u.start(t, append([]string{"login", "--timeout", "30s"}, flow...)...)
			code, err := p.wait(time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			stderr := p.stderr.String()
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			for _, want := range []string{"--profile", "alilogin setup --broker"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stderr, "http://") || strings.Contains(stderr, "https://") || strings.Contains(stderr, "code") {
				t.Errorf("a sign-in was started (a URL or code printed):\n%s", stderr)
			}
			if took > 10*time.Second {
				t.Errorf("login took %s before failing: it waited for a sign-in", took)
			}
		})
	}
}

// TestSeveralProfilesKeepSignIn: roles that allow several profiles,
// without a terminal: login fails listing them and keeps the sign-in in
// the store; `login --profile P` right after completes without a
// browser and consumes it (the first login makes P current); the login
// after that needs a browser again, and leaves the current profile as
// it was.
func TestSeveralProfilesKeepSignIn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	u, a, b, name, pw := twoProfileUser(t, ctx, "keep")
	forgetAtEnd(t, u, a, b)

	p, _ := login(t, ctx, u, name, pw)
	if p.code() != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", p.code(), p.stderr.String())
	}
	for _, want := range []string{"your roles allow several profiles: " + a + ", " + b, "your sign-in is kept for", "alilogin login --profile NAME needs no browser"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr.String())
		}
	}
	notStored(t, u, a)
	notStored(t, u, b)
	kept, err := pendingOf(t, u)
	if err != nil || kept.User != name || kept.Issuer != stack.Hydra.IssuerURL || kept.ClientID != stack.Hydra.ClientID || kept.RefreshToken.Empty() {
		t.Fatalf("the kept sign-in: %+v, %v", kept, err)
	}

	// No browser: nothing to sign in at, and it completes.
	p = u.start(t, "login", "--no-browser", "--listen", "127.0.0.1:0", "--timeout", "20s", "--profile", b, "--json")
	if code, err := p.wait(time.Minute); err != nil || code != 0 {
		t.Fatalf("login --profile %s after the kept sign-in: exit %d (%v); stderr:\n%s", b, code, err, p.stderr.String())
	}
	if urlLine.MatchString(p.stderr.String()) || !strings.Contains(p.stderr.String(), "using your sign-in of") {
		t.Errorf("login --profile %s asked for a sign-in again:\n%s", b, p.stderr.String())
	}
	var sum summary
	if err := json.Unmarshal([]byte(p.stdout.String()), &sum); err != nil || sum.Profile != b || sum.User != name {
		t.Errorf("summary %+v (%v)", sum, err)
	}
	if rec, err := getRecord(t, u, b); err != nil || rec.Vault == nil || rec.RefreshToken.Empty() {
		t.Fatalf("the login of %s: %+v, %v", b, rec, err)
	}
	if _, err := pendingOf(t, u); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the kept sign-in is still there after the login that used it: %v", err)
	}
	if out := strings.TrimSpace(u.ok(t, "use").stdout.String()); out != b {
		t.Errorf("current profile after the first login: %q, want %s", out, b)
	}

	// Used once: the next login signs in again, and leaves the current
	// profile alone.
	p, _ = login(t, ctx, u, name, pw, "--profile", a)
	if p.code() != 0 {
		t.Fatalf("login --profile %s: exit %d; stderr:\n%s", a, p.code(), p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "current profile: still "+b) {
		t.Errorf("login of another profile does not say the current one stays:\n%s", p.stderr.String())
	}
	if out := strings.TrimSpace(u.ok(t, "use").stdout.String()); out != b {
		t.Errorf("current profile after a login to %s: %q, want %s still", a, out, b)
	}
}

// TestUnknownProfileNamed: a profile Vault has no role for is reported
// as unknown, listing the configured profiles (else pointing to broker
// explain), not as a role to ask for; the sign-in is kept, so the login
// with the right name needs no browser.
func TestUnknownProfileNamed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	a := newProfile(t, ctx, "known-a")
	name, pw := newUserAccount("known-a")
	u := newUser(t)
	u.writeConfig(t, fmt.Sprintf("profile %q {\n  roles = [\"known-a\"]\n}\n", a))
	dropPendingAtEnd(t, u)
	forgetAtEnd(t, u, a)

	p, _ := login(t, ctx, u, name, pw, "--profile", "ci")
	if p.code() == 0 {
		t.Fatalf("login --profile ci succeeded; stderr:\n%s", p.stderr.String())
	}
	for _, want := range []string{`profile "ci" is unknown`, `has no role "ci"`, "Known profiles (from the config file): " + a, "your sign-in is kept for"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr.String())
		}
	}
	if strings.Contains(p.stderr.String(), "Application Portal") {
		t.Errorf("an unknown profile is reported as a role to ask for:\n%s", p.stderr.String())
	}
	p = u.start(t, "login", "--no-browser", "--listen", "127.0.0.1:0", "--timeout", "20s", "--profile", a)
	if code, err := p.wait(time.Minute); err != nil || code != 0 || urlLine.MatchString(p.stderr.String()) {
		t.Fatalf("login --profile %s after the typo: exit %d (%v), a new sign-in asked: %v; stderr:\n%s", a, code, err, urlLine.MatchString(p.stderr.String()), p.stderr.String())
	}

	// Nothing configured to list: broker explain.
	u2 := newUser(t)
	dropPendingAtEnd(t, u2)
	p, _ = login(t, ctx, u2, name, pw, "--profile", "ci")
	for _, want := range []string{`profile "ci" is unknown`, "broker explain --roles known-a", "alilogin setup --broker URL"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("without profiles configured, stderr lacks %q:\n%s", want, p.stderr.String())
		}
	}
}

// TestLoginAsksProfileOnTerminal: on a terminal, roles that allow several
// profiles get a numbered choice right after the sign-in; the answer is
// the profile logged in to.
func TestLoginAsksProfileOnTerminal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	u, a, b, name, pw := twoProfileUser(t, ctx, "ask")
	forgetAtEnd(t, u, a, b)
	u.env["TERM"] = "xterm-256color"
	u.env["ALI"] = bin

	c := startTTY(t, u.environ(), "bash", "--norc", "--noprofile", "-i")
	c.typeLine(`PS1='PROMPT> '`)
	c.waitPrompt()
	c.typeLine(`"$ALI" login --no-browser --listen 127.0.0.1:0; echo "EXIT=$?"`)
	authURL := c.waitFor(regexp.MustCompile(`(?m)^  (https?://\S+)\s*$`))
	signInAt(t, ctx, authURL, name, pw, c.screen)
	c.waitFor(regexp.MustCompile(`(Profile to log in to \[1-2\]: )`))
	if s := c.screen(); !strings.Contains(s, "1) "+a) || !strings.Contains(s, "2) "+b) {
		t.Errorf("the choice does not list the profiles:\n%s", s)
	}
	c.typeLine("2")
	if code := c.waitFor(regexp.MustCompile(`(?m)^EXIT=(\d+)`)); code != "0" {
		t.Fatalf("login exit %s; screen:\n%s", code, c.screen())
	}
	if rec, err := getRecord(t, u, b); err != nil || rec.User != name {
		t.Errorf("the login of the profile chosen: %+v, %v", rec, err)
	}
	notStored(t, u, a)
}

// TestLogoutAllRevokesKeptSignIn: the kept sign-in (here in the file
// store: 0600 in the 0700 records directory) is revoked at the SSO and
// deleted by `logout --all`.
func TestLogoutAllRevokesKeptSignIn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	u, _, _, name, pw := twoProfileUser(t, ctx, "drop")
	u.env["ALILOGIN_STORE"] = "file"

	if p, _ := login(t, ctx, u, name, pw); p.code() != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", p.code(), p.stderr.String())
	}
	kept, err := pendingOf(t, u)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(u.env["XDG_STATE_HOME"], "alilogin", "records")
	ents, _ := os.ReadDir(dir)
	di, _ := os.Stat(dir)
	if len(ents) != 1 || di == nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("records directory %s: %v (mode %v), want the kept sign-in alone, 0700", dir, ents, di)
	}
	if fi, _ := os.Stat(filepath.Join(dir, ents[0].Name())); fi.Mode().Perm() != 0o600 {
		t.Errorf("the kept sign-in's file is %v, want 0600", fi.Mode().Perm())
	}
	p := u.ok(t, "logout", "--all")
	if !strings.Contains(p.stderr.String(), "revoked the sign-in kept by an earlier login") {
		t.Errorf("logout --all says nothing of the kept sign-in:\n%s", p.stderr.String())
	}
	if _, err := stack.Hydra.Refresh(ctx, stack.Hydra.ClientID, kept.RefreshToken.Reveal()); err == nil {
		t.Error("Hydra still accepts the refresh token of the kept sign-in")
	}
	if _, err := pendingOf(t, u); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the kept sign-in after logout --all: %v", err)
	}
	noLeaks(t, p, kept.RefreshToken, kept.IDToken)
}

// twoProfileUser makes profiles for the roles tag-a and tag-b, an account
// holding both roles, and a user whose config names both profiles; the
// user's kept sign-in is dropped when t ends.
func twoProfileUser(t *testing.T, ctx context.Context, tag string) (u *user, a, b, name, pw string) {
	t.Helper()
	a = newProfile(t, ctx, tag+"-a")
	b = newProfile(t, ctx, tag+"-b")
	name, pw = newUserAccount(tag+"-a", tag+"-b")
	u = newUser(t)
	u.writeConfig(t, fmt.Sprintf("profile %q {\n  roles = [\""+tag+"-a\"]\n}\nprofile %q {\n  roles = [\""+tag+"-b\"]\n}\n", a, b))
	dropPendingAtEnd(t, u)
	return u, a, b, name, pw
}
