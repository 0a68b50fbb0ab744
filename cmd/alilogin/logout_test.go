package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
)

// TestLogoutOfProfileNotStored: `logout --profile nosuch` says only that
// there is no stored login for it (never also "logged out") and exits 1,
// as `gh auth logout --hostname H` does for a host it is not logged in
// to; the logins of other profiles stay. Plain `logout` with nothing
// stored exits 1 too; `logout --all` with nothing stored is no error.
func TestLogoutOfProfileNotStored(t *testing.T) {
	env := map[string]string{
		"HOME": t.TempDir(), "XDG_STATE_HOME": t.TempDir(), "XDG_CONFIG_HOME": t.TempDir(),
		"ALILOGIN_STORE": "file", "ALILOGIN_KERNEL_CACHE": "off",
	}
	getenv := func(k string) string { return env[k] }
	st, err := store.Open("", getenv, nil)
	if err != nil {
		t.Fatal(err)
	}

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
