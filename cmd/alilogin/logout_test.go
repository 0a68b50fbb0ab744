package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/discovery"
	"github.com/alisw/alilogin/internal/hostile"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// TestLogoutOfProfileNotStored: `logout --profile nosuch` says only that
// there is no stored login for it (never also "logged out") and exits 1,
// as `gh auth logout --hostname H` does for a host it is not logged in
// to; the logins of other profiles stay. Plain `logout` with nothing
// stored exits 1 too; `logout --all` with nothing stored is no error.
func TestLogoutOfProfileNotStored(t *testing.T) {
	env := testutil.Home(t, nil)
	st := openFileStore(t, env)

	e, _, stderr := testEnv(env)
	if code := logoutPrinting(e, nil); code != 1 || !strings.Contains(stderr.String(), "no stored login") {
		t.Errorf("logout with nothing stored: exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	e, _, stderr = testEnv(env)
	if code := logoutPrinting(e, []string{"--all"}); code != 0 {
		t.Errorf("logout --all with nothing stored: exit %d, want 0; stderr:\n%s", code, stderr.String())
	}

	now := time.Now()
	if err := st.Put(&store.Record{Version: store.RecordVersion, Profile: "ci-user", User: "alice",
		Vault:     &store.Token{Secret: secret.New("hvs.kept"), Accessor: "acc", IssuedAt: now, ExpiresAt: now.Add(-time.Minute)},
		UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	e, _, stderr = testEnv(env)
	code := logoutPrinting(e, []string{"--profile", "nosuch"})
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	if got := stderr.String(); !strings.Contains(got, "no stored login for profile nosuch") || strings.Contains(got, "logged out") {
		t.Errorf("stderr should say only that profile nosuch has no stored login:\n%s", got)
	}
	if _, err := st.Get("ci-user"); err != nil {
		t.Errorf("the other profile's login is gone: %v", err)
	}
}

// logoutPrinting runs logout with args and prints its final error as
// main does.
func logoutPrinting(e *cmdEnv, args []string) int {
	root := newRootCmd(context.Background(), e)
	root.SetArgs(append([]string{"logout"}, args...))
	err := root.Execute()
	if err != nil {
		cmdroot.PrintError(e.Stderr, "alilogin", err)
	}
	return exitCode(err)
}

// TestHostileDiscoveryDoesNotBlockLogout: a compromised (or misconfigured)
// broker serves a discovery document that alilogin's rules refuse (here a
// plain-http Vault across the network). It passes
// discovery.Document.Validate, so Discoverer used to cache it before
// Resolve refused it, and from then on `alilogin logout` failed with
// "invalid configuration" before it looked at the store: the login could
// not be logged out, its refresh token stayed stored. Now the refused
// document is not cached, and even a cached one (as an older alilogin
// wrote it) does not stop logout: it warns, deletes the record, revokes
// only where the record says, and exits 3.
func TestHostileDiscoveryDoesNotBlockLogout(t *testing.T) {
	doc := discovery.Document{Version: 1,
		SSO:      discovery.SSO{Issuer: "https://127.0.0.1:1", ClientID: "alilogin"},
		Vault:    discovery.Vault{Addr: "http://192.0.2.1:8200"},
		Profiles: []discovery.Profile{{Name: "ci", Roles: []string{"r"}}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	defer srv.Close()
	env := testutil.Home(t, map[string]string{"ALILOGIN_BROKER": srv.URL})
	getenv := func(k string) string { return env[k] }
	st := openFileStore(t, env)
	now := time.Now()
	rec := &store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice", Issuer: "https://127.0.0.1:1", ClientID: "alilogin",
		RefreshToken: secret.New("refresh-token-of-alice"),
		Vault:        &store.Token{Secret: secret.New("hvs.x"), Accessor: "acc", IssuedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)},
		UpdatedAt:    now}
	if err := st.Put(rec); err != nil {
		t.Fatal(err)
	}

	// What `alilogin login` (or any command that fetches) does: the
	// document is cached, then refused.
	dir, _ := config.Dir(getenv)
	_, rerr := config.Resolve(config.Sources{Getenv: getenv, Discover: config.Discoverer(context.Background(), nil, dir)})
	if rerr == nil {
		t.Fatal("the hostile document was accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, config.DiscoveryCacheName)); err == nil {
		t.Error("the refused document was cached")
	}
	// As an older alilogin would have cached it.
	_ = config.WriteDiscoveryCache(dir, srv.URL, &doc)

	e, _, stderr := testEnv(env)
	code := runCmd(e, newLogoutCmd(e), []string{"--profile", "ci"})
	if _, err := st.Get("ci"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("logout exit %d, %q; the login is still stored (%v): a broker's document keeps the user from logging out", code, stderr.String(), err)
	}
	if code != exitPartial || !strings.Contains(stderr.String(), "ignoring the configuration") || !strings.Contains(stderr.String(), "plain http://") {
		t.Errorf("logout exit %d, stderr %q; want %d and a warning naming the invalid configuration", code, stderr.String(), exitPartial)
	}
}

// TestLogoutLockTimeoutDeletesNothing: a logout that cannot get the lock
// (a renewal holds it for longer than the wait) used to go on "anyway"
// and delete the record, which the renewal could then write back with
// tokens the logout never revoked. Now it fails, and changes nothing.
func TestLogoutLockTimeoutDeletesNothing(t *testing.T) {
	vault, revoked := pathRecorder(t)
	env := testutil.Home(t, map[string]string{"VAULT_ADDR": vault.URL})
	getenv := func(k string) string { return env[k] }
	st := openFileStore(t, env)
	now := time.Now()
	putVaultLogin(t, st, "hvs.live", now.Add(time.Hour))
	dir, _ := store.LockDir(getenv)
	held, err := store.AcquireLock(context.Background(), dir, "ci", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()

	e, _, stderr := testEnv(env)
	e.LockWait = 50 * time.Millisecond
	_, lerr := session.Logout(context.Background(), e.session(), session.Options{Profile: "ci"})
	if _, err := st.Get("ci"); err != nil {
		t.Errorf("logout without the lock deleted the record (%v, %q)", lerr, stderr.String())
	}
	select {
	case p := <-revoked:
		t.Errorf("revoked %s without the lock", p)
	default:
	}
	lock, _ := store.LockPath(dir, "ci")
	if lerr == nil || !strings.Contains(lerr.Error(), "nothing was revoked or deleted") || !strings.Contains(lerr.Error(), lock) {
		t.Errorf("logout error %v; want one naming the lock file and that nothing changed", lerr)
	}
	if code := runCmd(e, newLogoutCmd(e), []string{"--profile", "ci"}); code != exitError {
		t.Errorf("logout exit %d, want %d", code, exitError)
	}
}

// TestLogoutWithInvalidConfigFile: the user's own config file is refused
// (a mount that climbs out of its path); logout still deletes the record,
// warns naming the problem, sends the Vault token to no address of the
// refused file, and exits 3.
func TestLogoutWithInvalidConfigFile(t *testing.T) {
	vault, hits := pathRecorder(t)
	cfgFile := filepath.Join(t.TempDir(), "config.hcl")
	if err := os.WriteFile(cfgFile, []byte("vault {\n  address = \""+vault.URL+"\"\n  mount = \"../../sys/policies/acl\"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := testutil.Home(t, map[string]string{"ALILOGIN_CONFIG": cfgFile})
	st := openFileStore(t, env)
	now := time.Now()
	putVaultLogin(t, st, "hvs.live", now.Add(time.Hour))
	e, _, stderr := testEnv(env)
	code := runCmd(e, newLogoutCmd(e), nil)
	if _, err := st.Get("ci"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("logout exit %d, %q; the login is still stored (%v)", code, stderr.String(), err)
	}
	if code != exitPartial || !strings.Contains(stderr.String(), "ignoring the configuration") || !strings.Contains(stderr.String(), "not a valid Vault mount path") {
		t.Errorf("logout exit %d, stderr %q; want %d and a warning naming the invalid configuration", code, stderr.String(), exitPartial)
	}
	select {
	case p := <-hits:
		t.Errorf("the Vault token went to %s, the address of a refused configuration", p)
	default:
	}
}

// TestLogoutGenerationUnwritable: when the kernel cache's generation file
// cannot be written (a full disk, a quota), logout still deletes the
// login and says that cached copies may linger (exit 3), rather than
// failing with the login gone.
func TestLogoutGenerationUnwritable(t *testing.T) {
	state := t.TempDir()
	env := testutil.Home(t, map[string]string{"XDG_STATE_HOME": state})
	getenv := func(k string) string { return env[k] }
	st := openFileStore(t, env)
	now := time.Now()
	putVaultLogin(t, st, "hvs.gone", now.Add(-time.Minute))
	dir, err := store.StateDir(getenv)
	if err != nil {
		t.Fatal(err)
	}
	gen := filepath.Join(dir, "kcache", "ci.gen")
	os.Remove(gen)
	if err := os.MkdirAll(filepath.Join(gen, "blocker"), 0o700); err != nil { // a directory cannot be renamed over
		t.Fatal(err)
	}
	e, _, stderr := testEnv(env)
	code := runCmd(e, newLogoutCmd(e), []string{"--profile", "ci"})
	if code != exitPartial {
		t.Errorf("logout exit %d, want %d; stderr:\n%s", code, exitPartial, stderr.String())
	}
	if !strings.Contains(stderr.String(), "kernel-keyring cache generation") {
		t.Errorf("no warning about the cache; stderr:\n%s", stderr.String())
	}
	if _, err := st.Get("ci"); err != store.ErrNotFound {
		t.Errorf("the record is still there: %v", err)
	}
}

// TestLogoutWarningCleansAccessor: the accessor of a Vault token is
// server text (Vault's login answer, the engines' accessor_id/accessor):
// internal/issue keeps it as sent, only the token itself is checked. When
// the revocation then fails (the lying Vault answers 500), logout prints
// "could not revoke the Vault token (accessor %s)" with the accessor raw:
// an OSC title change / screen clear reaches the terminal. (login.go
// cleans the same accessor in its own warning; logout and the renewal's
// discard warnings in internal/renew do not.)
func TestLogoutWarningCleansAccessor(t *testing.T) {
	vault := hostile.NewServer(hostile.ErrorBody(http.StatusInternalServerError, "application/json", `{"errors":["no"]}`))
	t.Cleanup(vault.Close)
	env := testutil.Home(t, map[string]string{"VAULT_ADDR": vault.URL})
	e, _, errb := testEnv(env)
	st := openFileStore(t, env)
	now := time.Now()
	if err := st.Put(&store.Record{Version: store.RecordVersion, Profile: "ci", Subject: "s", VaultAddr: testutil.Canonical(t, vault.URL),
		Vault: &store.Token{Secret: secret.New("hvs.tok"), Accessor: "acc\x1b]0;pwned\x07\x1b[2J", IssuedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	code := run(context.Background(), []string{"logout", "--profile", "ci"}, e)
	if !strings.Contains(errb.String(), "could not revoke the Vault token") {
		t.Fatalf("exit %d, stderr %q: want the revocation warning", code, errb)
	}
	if strings.ContainsAny(errb.String(), "\x1b\x07") {
		t.Errorf("logout's stderr carries the Vault's escape sequences raw: %q", errb)
	}
}

// pathRecorder is a server that answers every request 204 and sends its
// path on the returned channel (room for 4), closed when t ends.
func pathRecorder(t *testing.T) (*httptest.Server, chan string) {
	t.Helper()
	paths := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv, paths
}

// putVaultLogin stores a login of alice for profile ci holding only a
// Vault token (accessor acc) that expires at exp.
func putVaultLogin(t *testing.T, st store.Store, vaultToken string, exp time.Time) {
	t.Helper()
	now := time.Now()
	if err := st.Put(&store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice",
		Vault:     &store.Token{Secret: secret.New(vaultToken), Accessor: "acc", IssuedAt: now, ExpiresAt: exp},
		UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
}
