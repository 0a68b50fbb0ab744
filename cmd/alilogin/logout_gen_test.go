package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// TestLogoutGenerationUnwritable: when the kernel cache's generation file
// cannot be written (a full disk, a quota), logout still deletes the
// login and says that cached copies may linger (exit 3), rather than
// failing with the login gone.
func TestLogoutGenerationUnwritable(t *testing.T) {
	state := t.TempDir()
	env := map[string]string{
		"HOME": t.TempDir(), "XDG_STATE_HOME": state, "XDG_CONFIG_HOME": t.TempDir(),
		"ALILOGIN_STORE": "file", "ALILOGIN_KERNEL_CACHE": "off",
	}
	getenv := func(k string) string { return env[k] }
	st, err := store.Open("", getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.Put(&store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice",
		Vault:     &store.Token{Secret: secret.New("hvs.gone"), Accessor: "acc", IssuedAt: now, ExpiresAt: now.Add(-time.Minute)},
		UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
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
