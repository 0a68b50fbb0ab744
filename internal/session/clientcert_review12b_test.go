package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// TestReview12bLogoutCurrentDirSymlink: logout deletes key.pem, cert.pem
// and ca.pem in the current environment's $XDG_RUNTIME_DIR/alilogin/
// <profile> with no check at all (clientcert.Remove), while Write refuses
// a symlink there and RemoveRecorded checks the recorded one. Where
// $XDG_RUNTIME_DIR is a directory someone else could prepare (the usual
// fallback XDG_RUNTIME_DIR=/tmp/runtime-$USER, a shared /tmp), a
// symlink alilogin/<profile> -> ~/nomad-tls makes the user's logout
// delete the hand-configured grid certificate and key there (any
// directory the user can write, files of those names). Before: the
// victim's files are gone. Want: left alone (a warning at most).
func TestReview12bLogoutCurrentDirSymlink(t *testing.T) {
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
	env := map[string]string{
		"HOME": t.TempDir(), "XDG_STATE_HOME": t.TempDir(), "XDG_CONFIG_HOME": t.TempDir(), "XDG_RUNTIME_DIR": shared,
		"ALILOGIN_STORE": "file", "ALILOGIN_KERNEL_CACHE": "off",
	}
	st, err := store.Open("", func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := clientcert.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rec := &store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice", VaultAddr: canonical(t, vault.URL),
		Vault:      &store.Token{Secret: secret.New("hvs.live"), Accessor: "acc", IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
		ClientCert: &clientcert.Cert{CertPEM: "cert\n", Key: key, Mount: "pki", Serial: "0a:0b", Subject: "CN=alice", NotAfter: now.Add(time.Hour)},
		UpdatedAt:  now}
	if err := st.Put(rec); err != nil {
		t.Fatal(err)
	}
	e, _, _ := testEnv(env)
	cfg := &config.Config{Vault: config.Server{Addr: vault.URL}, PKIMount: "pki"}
	warnings, err := logoutProfile(context.Background(), *e, cfg, st, "ci")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"key.pem", "cert.pem", "ca.pem"} {
		if _, err := os.Stat(filepath.Join(victim, f)); err != nil {
			t.Errorf("logout deleted %s through the symlink %s/alilogin/ci: %v (warnings %q)", f, shared, err, warnings)
		}
	}
}
