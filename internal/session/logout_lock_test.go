package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/renew"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

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
	env := map[string]string{
		"HOME": t.TempDir(), "XDG_STATE_HOME": t.TempDir(), "XDG_CONFIG_HOME": t.TempDir(),
		"ALILOGIN_STORE": "file", "ALILOGIN_KERNEL_CACHE": "off",
	}
	getenv := func(k string) string { return env[k] }
	st, err := store.Open("", getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rec := &store.Record{Version: store.RecordVersion, Profile: "ci", User: "alice",
		Vault:     &store.Token{Secret: secret.New("hvs.live"), Accessor: "acc", IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
		UpdatedAt: now}
	if err := st.Put(rec); err != nil {
		t.Fatal(err)
	}
	// A renewal holds the lock.
	dir, _ := renew.LockDir(getenv)
	held, err := renew.Acquire(context.Background(), dir, "ci", time.Second)
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
