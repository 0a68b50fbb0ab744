package session

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// certEnvs is one user's login with a certificate, in a file store that
// every environment below shares (as the keyring is), and three
// environments of that user: the desktop (a runtime directory), a cron
// job (none), and an ssh session (another runtime directory and another
// state directory).
type certEnvs struct {
	st                    store.Store
	cfg                   *config.Config
	desktop, cron, remote map[string]string
	roots                 []string // every directory the environments name
}

func newCertEnvs(t *testing.T) *certEnvs {
	t.Helper()
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(vault.Close)
	home := t.TempDir()
	run := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	desktop := map[string]string{
		"HOME": home, "XDG_STATE_HOME": filepath.Join(home, ".local", "state"), "XDG_CONFIG_HOME": filepath.Join(home, ".config"),
		"XDG_RUNTIME_DIR": run, "ALILOGIN_STORE": "file", "ALILOGIN_KERNEL_CACHE": "off",
	}
	cron := maps.Clone(desktop)
	delete(cron, "XDG_RUNTIME_DIR")
	remote := maps.Clone(desktop)
	remote["XDG_RUNTIME_DIR"] = filepath.Join(t.TempDir(), "run")
	remote["XDG_STATE_HOME"] = filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(remote["XDG_RUNTIME_DIR"], 0o700); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open("file", func(k string) string { return desktop[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := clientcert.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rec := &store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice", VaultAddr: testutil.Canonical(t, vault.URL),
		Vault:      &store.Token{Secret: secret.New("hvs.live"), Accessor: "acc", IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
		ClientCert: &clientcert.Cert{CertPEM: "cert\n", ChainPEM: "ca\n", Key: key, Mount: "pki", Serial: "0a:0b", Subject: "CN=alice", NotAfter: now.Add(time.Hour), IssuedAt: now},
		UpdatedAt:  now}
	if err := st.Put(rec); err != nil {
		t.Fatal(err)
	}
	return &certEnvs{st: st, cfg: &config.Config{Vault: config.Server{Addr: vault.URL}, PKIMount: "pki"},
		desktop: desktop, cron: cron, remote: remote,
		roots: []string{home, run, remote["XDG_RUNTIME_DIR"], remote["XDG_STATE_HOME"]}}
}

// env runs `alilogin env` (Ensure with the certificate's files) in env.
func (c *certEnvs) env(t *testing.T, env map[string]string) error {
	t.Helper()
	e, _, _ := testEnv(env)
	s := &Session{Env: *e, Config: c.cfg, Store: c.st, Profile: "ci"}
	_, _, err := s.Ensure(context.Background(), EnsureOptions{CertFiles: true})
	return err
}

// keyFiles are the key.pem and cert.pem files under c's directories.
func (c *certEnvs) keyFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, root := range c.roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if n := d.Name(); n == clientcert.KeyFile || n == clientcert.CertFile {
				out = append(out, p)
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	return out
}

// TestLogoutRemovesEveryCopy: env run from a cron job (no
// XDG_RUNTIME_DIR: the files go under the state directory) and from an
// ssh session (another runtime and state directory) writes the key and
// certificate where that environment keeps them; a logout from the
// desktop removes every copy, not only the one of its own environment
// and the one the login wrote.
func TestLogoutRemovesEveryCopy(t *testing.T) {
	c := newCertEnvs(t)
	for name, env := range map[string]map[string]string{"desktop": c.desktop, "cron": c.cron, "ssh": c.remote} {
		if err := c.env(t, env); err != nil {
			t.Fatalf("env from %s: %v", name, err)
		}
	}
	if n := len(c.keyFiles(t)); n != 6 {
		t.Fatalf("%d key and certificate files after env in three environments, want 6: %v", n, c.keyFiles(t))
	}
	e, _, _ := testEnv(c.desktop)
	warnings, err := logoutProfile(context.Background(), *e, c.cfg, c.st, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if left := c.keyFiles(t); len(left) > 0 {
		t.Errorf("after logout from the desktop, left on disk: %v (warnings %q)", left, warnings)
	}
}

// TestLogoutRemovesUnrecordedStateCopy: a login stored by an alilogin
// that recorded no directory but the login's, whose env from cron wrote
// the files under the state directory: a logout from the desktop looks
// there too (clientcert.EnvDirs).
func TestLogoutRemovesUnrecordedStateCopy(t *testing.T) {
	c := newCertEnvs(t)
	rec, err := c.st.Get("ci")
	if err != nil {
		t.Fatal(err)
	}
	cronDir, err := clientcert.Dir(func(k string) string { return c.cron[k] }, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clientcert.Write(cronDir, rec.ClientCert); err != nil {
		t.Fatal(err)
	}
	e, _, _ := testEnv(c.desktop)
	warnings, err := logoutProfile(context.Background(), *e, c.cfg, c.st, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if left := c.keyFiles(t); len(left) > 0 {
		t.Errorf("after logout, left on disk: %v (warnings %q)", left, warnings)
	}
}

// TestEnvAfterLogoutWritesNoFiles: an env that read the login before a
// logout (from another environment) deleted it writes no files once the
// logout is done: what logout removed never comes back. It says that a
// login is needed.
func TestEnvAfterLogoutWritesNoFiles(t *testing.T) {
	c := newCertEnvs(t)
	rec, err := c.st.Get("ci")
	if err != nil {
		t.Fatal(err)
	}
	e, _, _ := testEnv(c.desktop)
	if _, err := logoutProfile(context.Background(), *e, c.cfg, c.st, "ci"); err != nil {
		t.Fatal(err)
	}
	ce, _, _ := testEnv(c.cron)
	s := &Session{Env: *ce, Config: c.cfg, Store: c.st, Profile: "ci"}
	err = s.useCert(context.Background(), rec) // the record env read before the logout
	if left := c.keyFiles(t); len(left) > 0 {
		t.Errorf("files written for a login logged out meanwhile: %v", left)
	}
	if !errors.Is(err, renew.ErrLoginNeeded) {
		t.Errorf("useCert of a login logged out meanwhile: %v, want a login needed", err)
	}
}

// TestLoginKeepsReplacedCertDirs: a new login carries the directories
// of the login it replaces that still exist (they hold the replaced
// certificate until env rewrites them), and drops those that are gone.
func TestLoginKeepsReplacedCertDirs(t *testing.T) {
	kept, gone := t.TempDir(), filepath.Join(t.TempDir(), "gone")
	old := &store.Record{CertDirs: []string{kept, gone}, ClientCert: &clientcert.Cert{Dir: kept}}
	rec := &store.Record{ClientCert: &clientcert.Cert{Dir: "/run/user/1000/alilogin/ci"}}
	carryCertDirs(rec, old)
	if want := []string{"/run/user/1000/alilogin/ci", kept}; !slices.Equal(rec.CertDirs, want) {
		t.Errorf("CertDirs %v, want %v", rec.CertDirs, want)
	}
}

// TestRenewalRevokesAtSigningMount: the renewal chain revokes the
// certificate it replaces with its key at the mount that signed it, as
// logout does, not at a PKI mount configured since (a changed config
// file or discovery document): the key goes to no other path.
func TestRenewalRevokesAtSigningMount(t *testing.T) {
	var paths []string
	vault := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.Path)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer vault.Close()
	cfg := &config.Config{Vault: config.Server{Addr: vault.URL}, PKIMount: "pki-elsewhere"}
	cl, err := NewClients(cfg)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := clientcert.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	e, _, _ := testEnv(nil)
	sig := certSigner(*e, cfg, cl)
	if err := sig.Revoke(context.Background(), secret.New("hvs.live"), &clientcert.Cert{CertPEM: "cert\n", Key: key, Mount: "pki", Serial: "0a:0b"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"POST /v1/pki/revoke-with-key"}; !slices.Equal(paths, want) {
		t.Errorf("requests %v, want %v", paths, want)
	}
}

// TestEnvRecordsNoRefusedCertDir: env in a runtime directory that Write
// refuses (writable by others, no sticky bit) fails without recording
// that directory in the stored login: logout later would only warn
// about it.
func TestEnvRecordsNoRefusedCertDir(t *testing.T) {
	c := newCertEnvs(t)
	if err := os.Chmod(c.remote["XDG_RUNTIME_DIR"], 0o777); err != nil {
		t.Fatal(err)
	}
	if err := c.env(t, c.remote); err == nil {
		t.Fatal("env wrote under a runtime directory others can write")
	}
	rec, err := c.st.Get("ci")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range rec.CertFileDirs() {
		if strings.HasPrefix(d, c.remote["XDG_RUNTIME_DIR"]) {
			t.Errorf("the refused directory %s is recorded in the login: %v", d, rec.CertFileDirs())
		}
	}
}

// TestEnvCertFilesWaitRenewalsLockWait: env, exec and the hook, writing
// the certificate's files, wait for a profile lock held elsewhere at
// most a renewal's wait (CertLockWait, shortened here), not a login's
// five minutes, and then fail without writing.
func TestEnvCertFilesWaitRenewalsLockWait(t *testing.T) {
	defer func(w time.Duration) { CertLockWait = w }(CertLockWait)
	CertLockWait = 300 * time.Millisecond
	c := newCertEnvs(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := store.LockDir(func(k string) string { return c.cron[k] })
	if err != nil {
		t.Fatal(err)
	}
	l, err := store.AcquireLock(ctx, dir, "ci", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	e, _, _ := testEnv(c.cron)
	s := &Session{Env: *e, Config: c.cfg, Store: c.st, Profile: "ci"}
	done := make(chan error, 1)
	go func() { _, _, err := s.Ensure(ctx, EnsureOptions{CertFiles: true}); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("env wrote the certificate's files while another process held the profile's lock")
		}
	case <-time.After(30 * time.Second):
		cancel()
		<-done
		t.Fatal("env waited more than 30 s for the profile's lock to write the certificate's files")
	}
	if left := c.keyFiles(t); len(left) > 0 {
		t.Errorf("files written without the lock: %v", left)
	}
}
