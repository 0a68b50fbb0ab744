package session

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// TestRefreshBinding: logout revokes the refresh token at the login's
// issuer with the login's client id; a record of an earlier version
// without a client id uses the configured one only at its own issuer.
func TestRefreshBinding(t *testing.T) {
	cfg := &config.Config{Issuer: "https://configured", ClientID: "configured-client"}
	for _, tc := range []struct {
		name             string
		rec              store.Record
		issuer, clientID string
		ok               bool
	}{
		{"the login's issuer and client id, not the configured ones", store.Record{Issuer: "https://login", ClientID: "login-client"}, "https://login", "login-client", true},
		{"earlier record at the configured issuer", store.Record{Issuer: "https://configured"}, "https://configured", "configured-client", true},
		{"earlier record at another issuer", store.Record{Issuer: "https://login"}, "", "", false},
		{"no issuer recorded", store.Record{ClientID: "login-client"}, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			iss, cid, ok := refreshBinding(cfg, &tc.rec)
			if iss != tc.issuer || cid != tc.clientID || ok != tc.ok {
				t.Errorf("refreshBinding = %q, %q, %v; want %q, %q, %v", iss, cid, ok, tc.issuer, tc.clientID, tc.ok)
			}
		})
	}
}

// TestLogoutWarnsCertLeftValid: the client certificate's TTL may
// be longer than the Vault token's token_ttl (it is bounded by max_ttl
// only), so a login whose Vault token expired unrenewed still holds a
// certificate valid for hours. logout then cannot revoke it (no Vault
// token), and must say so, as it does for every other credential it
// cannot revoke: "could not revoke the client certificate …; it expires
// at …" (exit 3). Before: nothing is sent and nothing is said; the
// certificate stays valid and unrevoked, and the user believes it gone.
func TestLogoutWarnsCertLeftValid(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer vault.Close()
	env := testutil.Home(t, nil)
	st := openFileStore(t, env)
	rec := certLogin(t, vault.URL, time.Now().Add(-time.Hour), 6*time.Hour)
	warnings, _ := logoutCI(t, env, vault.URL, st, rec)
	mu.Lock()
	sent := strings.Join(paths, " ")
	mu.Unlock()
	said := strings.Join(warnings, "\n")
	if !strings.Contains(sent, "revoke-with-key") && !(strings.Contains(said, "client certificate") && strings.Contains(said, "0a:0b")) {
		t.Errorf("logout of a login with an expired Vault token and a certificate valid 6h more: sent %q, warnings %q; want the certificate revoked or a warning naming it (serial 0a:0b) and its expiry", sent, said)
	}
}

// TestLogoutRemovesCertFilesWrittenElsewhere: the certificate's
// files go to $XDG_RUNTIME_DIR/alilogin/<profile> of the shell that
// signed it; a logout from a shell with another (or no) runtime
// directory (ssh, cron, su, a systemd unit) computes another directory
// and leaves the key and certificate on disk (Nomad and Consul check no
// CRL, so a revoked certificate there keeps working until it expires).
// Before: the files stay; logout says nothing about them.
// (fix12: the record now keeps the directory Write used, Cert.Dir, so the
// record is stored after the files are written, as login does; and a
// recorded directory that holds anything but our files is left alone,
// with a warning.)
func TestLogoutRemovesCertFilesWrittenElsewhere(t *testing.T) {
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer vault.Close()
	runtime := t.TempDir()
	env := testutil.Home(t, map[string]string{"XDG_RUNTIME_DIR": runtime})
	st := openFileStore(t, env)
	rec := certLogin(t, vault.URL, time.Now().Add(time.Hour), time.Hour)
	dir, err := clientcert.Dir(testutil.Getenv(env), "ci")
	if err != nil {
		t.Fatal(err)
	}
	p, err := clientcert.Write(dir, rec.ClientCert) // what login wrote
	if err != nil {
		t.Fatal(err)
	}
	if rec.ClientCert.Dir != dir {
		t.Fatalf("Write recorded directory %q; want %q", rec.ClientCert.Dir, dir)
	}
	if err := st.Put(rec); err != nil {
		t.Fatal(err)
	}
	delete(env, "XDG_RUNTIME_DIR") // logout from an ssh session, a cron job
	warnings, _ := logoutCI(t, env, vault.URL, st, nil)
	if clientcert.Present(dir) {
		t.Errorf("after logout the key and certificate are still in %s (%s); warnings %q", dir, p.Key, warnings)
	}
}

// TestLogoutLeavesForeignRecordedDir: a recorded certificate directory
// (Cert.Dir) that holds a file that is not ours is not emptied by logout
// (the record names it, but only Write's own directory is deleted):
// logout warns and leaves it.
func TestLogoutLeavesForeignRecordedDir(t *testing.T) {
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer vault.Close()
	env := testutil.Home(t, nil)
	st := openFileStore(t, env)
	rec := certLogin(t, vault.URL, time.Now().Add(time.Hour), time.Hour)
	dir := filepath.Join(t.TempDir(), "alilogin", "ci")
	if _, err := clientcert.Write(dir, rec.ClientCert); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(mine, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	warnings, _ := logoutCI(t, env, vault.URL, st, rec)
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("logout deleted a file that is not its own: %v", err)
	}
	if !strings.Contains(strings.Join(warnings, "\n"), "notes.txt") {
		t.Errorf("warnings %q; want one naming the foreign file", warnings)
	}
}

// TestLogoutCertDiedWithToken: a login whose Vault token has expired has
// nothing to revoke its certificate with; Vault revoked it with the
// token's leases (the role's generate_lease). logout asks Vault
// (<mount>/cert/<serial>, sending no token) and says the certificate died
// with the token, with no warning; an unrevoked one is a warning
// (TestLogoutWarnsCertLeftValid).
func TestLogoutCertDiedWithToken(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.URL.Path+" token="+r.Header.Get("X-Vault-Token"))
		mu.Unlock()
		if r.URL.Path == "/v1/pki/cert/0a:0b" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"data":{"certificate":"x","revocation_time":1764600000}}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer vault.Close()
	env := testutil.Home(t, nil)
	st := openFileStore(t, env)
	rec := certLogin(t, vault.URL, time.Now().Add(-time.Hour), 6*time.Hour)
	warnings, errb := logoutCI(t, env, vault.URL, st, rec)
	mu.Lock()
	defer mu.Unlock()
	if len(warnings) != 0 || !strings.Contains(errb.String(), "client certificate 0a:0b died with its Vault token") {
		t.Errorf("warnings %q, stderr %q; want no warning and a note that the certificate died with the token", warnings, errb.String())
	}
	if len(asked) != 1 || asked[0] != "GET /v1/pki/cert/0a:0b token=" {
		t.Errorf("requests %q; want one GET of the certificate, without a token", asked)
	}
}

// TestLogoutLeavesSymlinkedCertDirAlone: logout deletes key.pem, cert.pem
// and ca.pem in the current environment's $XDG_RUNTIME_DIR/alilogin/
// <profile> with no check at all (clientcert.Remove), while Write refuses
// a symlink there and RemoveRecorded checks the recorded one. Where
// $XDG_RUNTIME_DIR is a directory someone else could prepare (the usual
// fallback XDG_RUNTIME_DIR=/tmp/runtime-$USER, a shared /tmp), a
// symlink alilogin/<profile> -> ~/nomad-tls makes the user's logout
// delete the hand-configured grid certificate and key there (any
// directory the user can write, files of those names). Before: the
// victim's files are gone. Want: left alone (a warning at most).
func TestLogoutLeavesSymlinkedCertDirAlone(t *testing.T) {
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer vault.Close()
	shared := t.TempDir() // XDG_RUNTIME_DIR, prepared by someone else
	victim := t.TempDir() // the user's own ~/nomad-tls
	for _, f := range []string{"key.pem", "cert.pem", "ca.pem"} {
		if err := os.WriteFile(filepath.Join(victim, f), []byte("grid "+f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(shared, "alilogin"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(shared, "alilogin", "ci")); err != nil {
		t.Fatal(err)
	}
	env := testutil.Home(t, map[string]string{"XDG_RUNTIME_DIR": shared})
	st := openFileStore(t, env)
	rec := certLogin(t, vault.URL, time.Now().Add(time.Hour), time.Hour)
	warnings, _ := logoutCI(t, env, vault.URL, st, rec)
	for _, f := range []string{"key.pem", "cert.pem", "ca.pem"} {
		if _, err := os.Stat(filepath.Join(victim, f)); err != nil {
			t.Errorf("logout deleted %s through the symlink %s/alilogin/ci: %v (warnings %q)", f, shared, err, warnings)
		}
	}
}

// TestInterruptedLockWaitKeepsLogin: Ctrl-C while
// logout says "waiting for another alilogin to finish renewing" cancels
// the context; AcquireOrWait then fails and logout goes on "anyway",
// without the lock, with the cancelled context: the Vault revocation
// fails at once (context canceled) and the record is deleted. The user
// who pressed Ctrl-C to abort is logged out locally, the Vault token (and
// with it the Nomad and Consul leases, and the refresh token at the SSO)
// stays alive and is no longer held anywhere. Now an interrupted wait
// aborts the logout: nothing revoked, record kept, "still logged in".
func TestInterruptedLockWaitKeepsLogin(t *testing.T) {
	revoked := make(chan string, 4)
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		revoked <- r.URL.Path
		w.WriteHeader(http.StatusNoContent)
	}))
	defer vault.Close()
	env := testutil.Home(t, nil)
	st := openFileStore(t, env)
	now := time.Now()
	rec := &store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice",
		Vault:     &store.Token{Secret: secret.New("hvs.live"), Accessor: "acc", IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
		UpdatedAt: now}
	if err := st.Put(rec); err != nil {
		t.Fatal(err)
	}
	// A renewal holds the lock.
	dir, _ := store.LockDir(testutil.Getenv(env))
	held, err := store.AcquireLock(context.Background(), dir, "ci", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()

	ctx, cancel := context.WithCancel(context.Background())
	e, _, stderr := testEnv(env)
	e.Stderr = &cancelOnWrite{w: stderr, cancel: cancel} // Ctrl-C on "waiting for another alilogin"
	cfg := &config.Config{Vault: config.Server{Addr: vault.URL}}
	warnings, err := logoutProfile(ctx, *e, cfg, st, "ci")
	_, gerr := st.Get("ci")
	select {
	case p := <-revoked:
		t.Errorf("revoked %s without the lock", p)
	default:
	}
	if gerr != nil || err == nil || !strings.Contains(err.Error(), "still logged in") {
		t.Errorf("interrupted while waiting: record %v, err %v, warnings %q; want the record kept and \"still logged in\"", gerr, err, warnings)
	}
}

// openFileStore opens the file store of env (a testutil.Home).
func openFileStore(t *testing.T, env map[string]string) store.Store {
	t.Helper()
	st, err := store.Open("", func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// certLogin is a login of profile ci made at vaultURL with a client
// certificate (serial 0a:0b, valid for certFor more), whose Vault token
// expires at vaultExp (an hour after it was issued).
func certLogin(t *testing.T, vaultURL string, vaultExp time.Time, certFor time.Duration) *store.Record {
	t.Helper()
	key, _, err := clientcert.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	return &store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice", VaultAddr: testutil.Canonical(t, vaultURL),
		Vault:      &store.Token{Secret: secret.New("hvs.login"), Accessor: "acc", IssuedAt: vaultExp.Add(-time.Hour), ExpiresAt: vaultExp},
		ClientCert: &clientcert.Cert{CertPEM: "cert\n", Key: key, Mount: "pki", Serial: "0a:0b", Subject: "CN=alice", NotAfter: now.Add(certFor)},
		UpdatedAt:  now}
}

// logoutCI stores rec (unless nil) in st, then logs profile ci out of st
// with env (a testutil.Home), Vault at vaultURL and the PKI mount pki,
// and returns its warnings and stderr.
func logoutCI(t *testing.T, env map[string]string, vaultURL string, st store.Store, rec *store.Record) ([]string, *bytes.Buffer) {
	t.Helper()
	if rec != nil {
		if err := st.Put(rec); err != nil {
			t.Fatal(err)
		}
	}
	e, _, errb := testEnv(env)
	cfg := &config.Config{Vault: config.Server{Addr: vaultURL}, PKIMount: "pki"}
	warnings, err := logoutProfile(context.Background(), *e, cfg, st, "ci")
	if err != nil {
		t.Fatal(err)
	}
	return warnings, errb
}

// A Vault token its server refuses (403: revoked or expired there) has
// nothing left to revoke: logout says nothing of it. Any other failure
// is a warning that names the token and when it expires.
func TestLogoutTakesARefusedTokenAsRevoked(t *testing.T) {
	for _, tc := range []struct {
		status int
		warn   bool
	}{{http.StatusForbidden, false}, {http.StatusInternalServerError, true}} {
		vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.status)
			w.Write([]byte(`{"errors":["permission denied"]}`))
		}))
		now := time.Now()
		rec := &store.Record{Profile: "ci", VaultAddr: testutil.Canonical(t, vault.URL),
			Vault: &store.Token{Secret: secret.New("hvs.x"), Accessor: "acc-x", IssuedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}}
		cfg := &config.Config{Vault: config.Server{Addr: vault.URL}}
		e, _, _ := testEnv(nil)
		warnings := strings.Join(revokeRecord(context.Background(), *e, cfg, rec), "\n")
		if got := strings.Contains(warnings, "acc-x"); got != tc.warn {
			t.Errorf("Vault answered %d: warnings %q, want a warning naming the token: %v", tc.status, warnings, tc.warn)
		}
		vault.Close()
	}
}
