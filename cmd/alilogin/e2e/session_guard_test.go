package e2e

// End-to-end tests of what keeps a login where it belongs: the refresh
// token goes only to the issuer and client id that made it, logout and
// renewal take turns under the profile lock, and a logout in one session
// leaves no kernel-keyring copy that another session could serve.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/discovery"
	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

func storedRefreshToken(t *testing.T, u *user, profile string) secret.String {
	t.Helper()
	rec := mustRecord(t, u, profile)
	return rec.RefreshToken
}

// TestRefreshStaysWithItsIssuer: when the configured issuer is no longer
// the one the login was made with (environment, config file, the broker's
// discovery document), the
// refresh token is not sent to it: exit 7 (a mismatch, not "log in":
// that would replace the login), a message naming both issuers and the fix, and the other provider never sees the token. The login itself
// stays, for the issuer that made it.
func TestRefreshStaysWithItsIssuer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	profile := sessionProfile(t, ctx, "1h", teststack.Mounts{}, "iss-users")
	for _, how := range []string{"ALILOGIN_ISSUER", "config file", "broker discovery document"} {
		t.Run(how, func(t *testing.T) {
			evil := hostile.NewRecordingIssuer()
			t.Cleanup(evil.Close)
			u := sessionUser(t, profile, teststack.Mounts{})
			seed(t, ctx, u, profile, "iss-users")
			rt := storedRefreshToken(t, u, profile)
			switch how {
			case "ALILOGIN_ISSUER":
				u.env["ALILOGIN_ISSUER"] = evil.URL
			case "config file":
				delete(u.env, "ALILOGIN_ISSUER")
				u.writeConfig(t, "issuer = \""+evil.URL+"\"\n")
			default: // the document the broker serves now names another SSO
				delete(u.env, "ALILOGIN_ISSUER")
				u.env["ALILOGIN_BROKER"] = "http://127.0.0.1:1"
				dir, err := config.Dir(u.getenv)
				if err != nil {
					t.Fatal(err)
				}
				if err := config.WriteDiscoveryCache(dir, u.env["ALILOGIN_BROKER"], &discovery.Document{Version: 1,
					SSO: discovery.SSO{Issuer: evil.URL, ClientID: stack.Hydra.ClientID}, Vault: discovery.Vault{Addr: stack.Vault.Addr}}); err != nil {
					t.Fatal(err)
				}
			}
			p := u.run(t, "token", "--for", "nomad")
			if p.code() != 7 || p.stdout.String() != "" {
				t.Errorf("exit %d, stdout %q; want 7 (mismatch) and nothing", p.code(), p.stdout.String())
			}
			for _, s := range []string{stack.Hydra.IssuerURL, evil.URL, "unset ALILOGIN_ISSUER", "alilogin login --profile " + profile + ", which replaces this login"} {
				if !strings.Contains(p.stderr.String(), s) {
					t.Errorf("stderr does not name %s:\n%s", s, p.stderr.String())
				}
			}
			if evil.Carried(rt.Reveal()) {
				t.Error("the refresh token was sent to the configured issuer that did not issue it")
			}
			if _, err := getRecord(t, u, profile); err != nil {
				t.Errorf("the login was dropped: %v", err)
			}
			noLeaks(t, p, rt)
		})
	}
}

// TestRefreshOfAnotherIdentity: a refresh whose new ID token names
// another subject than the stored login's ends the login: exit 4, the
// record is deleted, and no Vault token is made with the foreign ID token.
func TestRefreshOfAnotherIdentity(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, profile, _ := seededUser(t, ctx, "1h", "sub-users")
	rec := mustRecord(t, u, profile)
	rec.Subject = "someone-else" // the refresh token is another user's
	putRecord(t, u, rec)
	p := u.run(t, "token", "--for", "nomad")
	if p.code() != 4 || !strings.Contains(p.stderr.String(), "another identity") {
		t.Errorf("exit %d, stderr:\n%s\nwant 4 and the identity change named", p.code(), p.stderr.String())
	}
	if _, err := getRecord(t, u, profile); err != store.ErrNotFound {
		t.Errorf("record after: %v, want deleted", err)
	}
	if n := countVaultTokens(t, ctx, profile); n != 0 {
		t.Errorf("%d Vault tokens of the profile, want 0", n)
	}
}

// TestLogoutRevokesAtTheLoginsIssuer: logout revokes the refresh token at
// the issuer, with the client id, the login was made with, whatever the
// configuration says now; the configured issuer never sees the token.
func TestLogoutRevokesAtTheLoginsIssuer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile, _ := seededUser(t, ctx, "1h", "lor-users")
	u.ok(t, "env", "--for", "vault,nomad,consul")
	rt := storedRefreshToken(t, u, profile)
	evil := hostile.NewRecordingIssuer()
	t.Cleanup(evil.Close)
	u.env["ALILOGIN_ISSUER"] = evil.URL
	u.env["ALILOGIN_CLIENT_ID"] = "some-other-client"
	p := u.ok(t, "logout")
	if evil.Carried(rt.Reveal()) {
		t.Error("logout sent the refresh token to the configured issuer")
	}
	if _, err := stack.Hydra.Refresh(ctx, stack.Hydra.ClientID, rt.Reveal()); err == nil {
		t.Errorf("Hydra still accepts the refresh token; logout said:\n%s", p.stderr.String())
	}
}

// isVaultLogin matches the JWT login of alilogin at Vault.
func isVaultLogin(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/v1/auth/") && strings.HasSuffix(r.URL.Path, "/login")
}

// heldUser is a session user whose Vault is behind a HoldProxy, with a
// record holding only a refresh token: its first `token` call goes
// through step 4 and its Vault login.
func heldUser(t *testing.T, ctx context.Context, roles string) (*user, string, *hostile.HoldProxy) {
	t.Helper()
	profile := sessionProfile(t, ctx, "1h", teststack.Mounts{}, roles)
	px, err := hostile.NewHoldProxy(stack.Vault.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(px.Close)
	u := sessionUser(t, profile, teststack.Mounts{})
	u.env["VAULT_ADDR"] = px.URL
	seed(t, ctx, u, profile, roles)
	return u, profile, px
}

// arrived waits for the held request, or fails when p ends first.
func arrived(t *testing.T, h *hostile.Hold, p *proc) {
	t.Helper()
	select {
	case <-h.Arrived():
	case <-p.done:
		t.Fatalf("alilogin ended (%v) before its Vault login; stderr:\n%s", p.err, p.stderr.String())
	case <-time.After(time.Minute):
		t.Fatalf("no Vault login in a minute; stderr:\n%s", p.stderr.String())
	}
}

// heldRenewal starts `alilogin token args...` for a heldUser of roles and
// returns once its Vault login is held: the renewal is in flight under
// the profile's lock until hold is released.
func heldRenewal(t *testing.T, ctx context.Context, roles string, args ...string) (*user, string, *hostile.Hold, *proc) {
	t.Helper()
	u, profile, px := heldUser(t, ctx, roles)
	hold := px.HoldNext(isVaultLogin)
	t.Cleanup(hold.Release)
	renewal := u.start(t, append([]string{"token"}, args...)...)
	arrived(t, hold, renewal)
	return u, profile, hold, renewal
}

// wantNoTokensAlive fails t unless, within 15 s, no Vault and no Nomad
// token of profile is alive; when says after what.
func wantNoTokensAlive(t *testing.T, ctx context.Context, profile, when string) {
	t.Helper()
	if !testutil.Eventually(15*time.Second, func() bool {
		return countVaultTokens(t, ctx, profile) == 0 && countNomadTokens(t, ctx, profile) == 0
	}) {
		t.Errorf("%s: %d Vault and %d Nomad tokens of the profile alive, want none",
			when, countVaultTokens(t, ctx, profile), countNomadTokens(t, ctx, profile))
	}
}

var waitingLine = regexp.MustCompile(`waiting for another alilogin`)

// lineOrEnd waits until p prints a line matching re on stderr (true) or
// ends (false).
func lineOrEnd(p *proc, re *regexp.Regexp, d time.Duration) bool {
	deadline := time.After(d)
	for {
		if re.MatchString(p.stderr.String()) {
			return true
		}
		select {
		case <-p.done:
			return re.MatchString(p.stderr.String())
		case <-deadline:
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestLogoutWaitsForRenewal: a logout while a renewal is in flight (its
// Vault login answered but not yet received) waits for it, then revokes
// what it got: afterwards nothing is logged in and no token of the
// renewal is alive.
func TestLogoutWaitsForRenewal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile, hold, renewal := heldRenewal(t, ctx, "race-users", "--for", "nomad", "-v")

	logout := u.start(t, "logout")
	// Either logout waits for the lock (and says so), or it does not and
	// finishes while the renewal is held.
	if !lineOrEnd(logout, waitingLine, time.Minute) {
		t.Errorf("logout did not wait for the renewal in flight; stderr:\n%s", logout.stderr.String())
	}
	hold.Release()
	if c, err := renewal.wait(time.Minute); err != nil {
		t.Fatal(err)
	} else if c != 0 && c != 4 {
		t.Errorf("token: exit %d\n%s", c, renewal.stderr.String())
	}
	if c, err := logout.wait(time.Minute); err != nil || c != 0 {
		t.Errorf("logout: exit %d (%v)\n%s", c, err, logout.stderr.String())
	}

	if p := u.run(t, "status"); p.code() != 4 {
		t.Errorf("status after logout: exit %d\n%s", p.code(), p.stdout.String())
	}
	if p := u.run(t, "token", "--for", "nomad"); p.code() != 4 {
		t.Errorf("token after logout: exit %d, stdout %q", p.code(), p.stdout.String())
	}
	wantNoTokensAlive(t, ctx, profile, "after logout")
}

// TestLogoutInterruptedWhileWaitingKeepsLogin: Ctrl-C while logout waits
// for a renewal in flight used to log out locally "anyway", with a
// cancelled context, so that nothing was revoked (and the renewal could
// write the record back). Now the logout aborts, revokes and deletes
// nothing, and says the user is still logged in; the renewal finishes and
// a later logout revokes everything.
func TestLogoutInterruptedWhileWaitingKeepsLogin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile, hold, renewal := heldRenewal(t, ctx, "intr-users", "--for", "nomad", "-v")

	logout := u.start(t, "logout")
	if !lineOrEnd(logout, waitingLine, time.Minute) {
		t.Fatalf("logout did not wait for the renewal in flight; stderr:\n%s", logout.stderr.String())
	}
	if err := logout.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if c, err := logout.wait(time.Minute); err != nil || c != 1 || !strings.Contains(logout.stderr.String(), "still logged in") {
		t.Errorf("interrupted logout: exit %d (%v), want 1 and \"still logged in\"; stderr:\n%s", c, err, logout.stderr.String())
	}
	hold.Release()
	if c, err := renewal.wait(time.Minute); err != nil || c != 0 {
		t.Errorf("token: exit %d (%v)\n%s", c, err, renewal.stderr.String())
	}
	if p := u.run(t, "status"); p.code() != 0 {
		t.Errorf("status after the interrupted logout: exit %d, want 0 (still logged in)\n%s", p.code(), p.stderr.String())
	}
	if p := u.run(t, "logout"); p.code() != 0 {
		t.Errorf("logout: exit %d\n%s", p.code(), p.stderr.String())
	}
	wantNoTokensAlive(t, ctx, profile, "after logout")
}

// TestRenewalFindsRecordDeleted: when the record is deleted while a
// renewal is in flight by a writer that did not take the lock (an older
// alilogin; logout never deletes without it), the renewal writes nothing
// back and revokes the Vault token it got, and with it its leases.
func TestRenewalFindsRecordDeleted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile, hold, renewal := heldRenewal(t, ctx, "del-users", "--for", "nomad", "-v")
	st, err := store.Open("keyring", u.getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(profile); err != nil {
		t.Fatal(err)
	}
	hold.Release()
	if c, err := renewal.wait(time.Minute); err != nil || c != 4 {
		t.Errorf("token: exit %d (%v), stdout %q; want 4\n%s", c, err, renewal.stdout.String(), renewal.stderr.String())
	}
	if _, err := getRecord(t, u, profile); err != store.ErrNotFound {
		t.Errorf("record after: %v, want still deleted", err)
	}
	wantNoTokensAlive(t, ctx, profile, "after the renewal found its record deleted")
}

// kernelKeysOf lists the descriptions of the kernel keys that cache
// profile's record, in any session.
func kernelKeysOf(t *testing.T, profile string) []string {
	t.Helper()
	buf := make([]byte, 1<<16)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, unix.KEY_SPEC_USER_KEYRING, buf, 0)
	if err != nil {
		t.Fatalf("could not list the user keyring: %v", err)
	}
	var out []string
	for i := 0; i+4 <= n && i+4 <= len(buf); i += 4 {
		id := int(int32(binary.NativeEndian.Uint32(buf[i:])))
		d, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
		if err != nil {
			continue
		}
		if f := strings.SplitN(d, ";", 5); len(f) == 5 && strings.HasPrefix(f[4], "alilogin:") && strings.HasSuffix(f[4], ":"+profile) {
			out = append(out, f[4])
		}
	}
	return out
}

// TestLogoutFromAnotherSession: the desktop session caches the login in
// the kernel keyring; a logout from an SSH session of the same user (its
// own runtime directory and bus address, the same Secret Service behind
// them), with the kernel cache on or off there, leaves the desktop no copy
// to serve, and no kernel key of the profile at all.
func TestLogoutFromAnotherSession(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	profile := sessionProfile(t, ctx, "1h", teststack.Mounts{}, "ssh-users")
	for _, cacheInSSH := range []string{"on", "off"} {
		t.Run("kernel cache "+cacheInSSH+" in the SSH session", func(t *testing.T) {
			desktop := sessionUser(t, profile, teststack.Mounts{})
			seed(t, ctx, desktop, profile, "ssh-users")
			first := tokenOut(desktop.ok(t, "token", "--for", "nomad"))
			if got := tokenOut(desktop.ok(t, "token", "--for", "nomad")); got != first {
				t.Fatalf("second token call: another token")
			}
			if len(kernelKeysOf(t, profile)) == 0 {
				t.Fatal("the desktop session cached nothing in the kernel keyring")
			}
			ssh := &user{home: desktop.home, env: map[string]string{}}
			for k, v := range desktop.env {
				ssh.env[k] = v
			}
			// The same Secret Service, reached through another path to
			// its socket, from another runtime directory.
			runtime := t.TempDir()
			if err := os.Symlink(strings.TrimPrefix(stack.Keyring.BusAddress, "unix:path="), filepath.Join(runtime, "bus")); err != nil {
				t.Fatal(err)
			}
			ssh.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + filepath.Join(runtime, "bus")
			ssh.env["XDG_RUNTIME_DIR"] = runtime
			if cacheInSSH == "off" {
				ssh.env["ALILOGIN_KERNEL_CACHE"] = "off"
			}
			if p := ssh.ok(t, "logout"); !strings.Contains(p.stderr.String(), "logged out of profile "+profile) {
				t.Fatalf("ssh logout: %s", p.stderr.String())
			}
			if keys := kernelKeysOf(t, profile); len(keys) != 0 {
				t.Errorf("kernel keys of the profile left after logout: %q", keys)
			}
			if p := desktop.run(t, "token", "--for", "nomad"); p.code() != 4 || p.stdout.String() != "" {
				t.Errorf("desktop token after the SSH logout: exit %d, stdout %q; want 4 and nothing", p.code(), p.stdout.String())
			}
			if p := desktop.run(t, "status"); p.code() != 4 {
				t.Errorf("desktop status after the SSH logout: exit %d", p.code())
			}
		})
	}
}

// TestLoginWaitsForRenewal: a new login of a profile whose renewal is in
// flight waits for it under the profile lock, then replaces what it
// stored and revokes it: the new login is what stays, and the renewal's
// tokens are gone.
func TestLoginWaitsForRenewal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	u, profile, hold, renewal := heldRenewal(t, ctx, "lw-users", "--for", "nomad")

	name, pw := newUserAccount("lw-users")
	lp := u.start(t, "login", "--no-browser", "--listen", "127.0.0.1:0", "--profile", profile, "--json")
	signIn(t, ctx, lp, name, pw)
	if !lineOrEnd(lp, waitingLine, time.Minute) {
		t.Errorf("login did not wait for the renewal in flight; stderr:\n%s", lp.stderr.String())
	}
	hold.Release()
	if c, err := renewal.wait(time.Minute); err != nil || c != 0 {
		t.Fatalf("token: exit %d (%v)\n%s", c, err, renewal.stderr.String())
	}
	if c, err := lp.wait(time.Minute); err != nil || c != 0 {
		t.Fatalf("login: exit %d (%v)\n%s", c, err, lp.stderr.String())
	}
	var sum summary
	if err := json.Unmarshal([]byte(lp.stdout.String()), &sum); err != nil {
		t.Fatalf("login --json: %v\n%s", err, lp.stdout.String())
	}
	rec := mustRecord(t, u, profile)
	if rec.User != name || rec.Vault.Accessor != sum.Tokens["vault"].Accessor {
		t.Errorf("stored login: user %s, vault accessor %s; want the new login's %s, %s", rec.User, rec.Vault.Accessor, name, sum.Tokens["vault"].Accessor)
	}
	if tok := tokenOut(renewal); tok == "" || !testutil.Eventually(15*time.Second, func() bool { return refused(ctx, tok) }) {
		t.Error("the renewal's Nomad token survived the new login")
	}
	if n := countVaultTokens(t, ctx, profile); n != 1 {
		t.Errorf("%d Vault tokens of the profile alive, want 1 (the new login's)", n)
	}
}

// refused reports whether Nomad turns the token down.
func refused(ctx context.Context, token string) bool {
	err := stack.Nomad.Client().WithToken(secret.New(token)).Do(ctx, "GET", "/v1/acl/token/self", nil, nil)
	st := apiclient.StatusOf(err)
	return st == 403 || st == 404
}

// TestLoginInterruptedWhileWaitingStoresNothing: Ctrl-C while a login
// waits for the profile's lock (held here as a renewal would) used to
// store the new login "anyway", without the lock. Now nothing is stored
// and the tokens it obtained are revoked.
func TestLoginInterruptedWhileWaitingStoresNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile, name, pw := newLoginUser(t, ctx, "lwait-users")
	dir, err := store.LockDir(u.getenv)
	if err != nil {
		t.Fatal(err)
	}
	held, err := store.AcquireLock(ctx, dir, profile, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()

	p := u.start(t, "login", "--no-browser", "--listen", "127.0.0.1:0", "--profile", profile)
	b := openLoginPage(t, ctx, p)
	if err := b.SubmitLogin(ctx, name, pw); err != nil {
		t.Fatal(err)
	}
	if !lineOrEnd(p, waitingLine, time.Minute) {
		t.Fatalf("login did not wait for the lock; stderr:\n%s", p.stderr.String())
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if c, err := p.wait(time.Minute); err != nil || c != 1 || !strings.Contains(p.stderr.String(), "not stored") {
		t.Errorf("interrupted login: exit %d (%v), want 1 and \"not stored\"; stderr:\n%s", c, err, p.stderr.String())
	}
	if _, err := getRecord(t, u, profile); err != store.ErrNotFound {
		t.Errorf("record after the interrupted login: %v, want none", err)
	}
	wantNoTokensAlive(t, ctx, profile, "after the interrupted login")
}
