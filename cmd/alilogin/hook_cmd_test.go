package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Second: "45s", 42*time.Minute + 10*time.Second: "42m", 3*time.Hour + 12*time.Minute: "3h12m",
		50 * time.Hour: "2d2h",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("%s: %q, want %q", d, got, want)
		}
	}
}

// hookHome is a test home with a file-store record of profile ci whose
// Vault token expires at exp, bound to the configured Vault.
func hookHome(t *testing.T, exp time.Time) map[string]string {
	t.Helper()
	env := testutil.Home(t, map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200", "ALILOGIN_PROFILE": "ci"})
	st := openFileStore(t, env)
	if err := st.Put(&store.Record{Version: store.RecordVersion, Profile: "ci", VaultAddr: "http://127.0.0.1:8200",
		Vault: &store.Token{Secret: secret.New("hvs.hook"), ExpiresAt: exp}}); err != nil {
		t.Fatal(err)
	}
	return env
}

// TestHookEnv: the refresh prints the environment and the moment the
// tokens need renewing (expiry - min TTL), with no server asked while
// the token is fresh; a failure becomes the message, not an exit code.
func TestHookEnv(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e, out, errb := testEnv(hookHome(t, now.Add(time.Hour)))
	e.Now = func() time.Time { return now }
	if code := run(context.Background(), []string{"hook", "bash", "--env", "--min-ttl", "10m"}, e); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"export VAULT_TOKEN='hvs.hook';", "__alilogin_next=" + itoa(now.Add(50*time.Minute).Unix()), "__alilogin_profile='ci'", "__alilogin_msg=''"} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	e, out, _ = testEnv(testutil.Home(t, map[string]string{"ALILOGIN_PROFILE": "ci"}))
	e.Now = func() time.Time { return now }
	if code := run(context.Background(), []string{"hook", "fish", "--env"}, e); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"set -g __alilogin_next " + itoa(now.Add(time.Minute).Unix()),
		"set -g __alilogin_msg 'alilogin: not logged in for profile ci; run: alilogin login --profile ci'"} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// The refresh names VAULT_TOKEN only to unset what an earlier one
	// exported: it sets no token variable.
	if strings.Contains(out.String(), "-gx VAULT_TOKEN") || strings.Contains(out.String(), "hvs.") ||
		!strings.Contains(out.String(), "set -e VAULT_TOKEN;") {
		t.Errorf("tokens printed without a login, or the earlier ones not unset:\n%s", out.String())
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestVaultHelper(t *testing.T) {
	now := time.Now()
	t.Run("get prints the token alone", func(t *testing.T) {
		e, out, errb := testEnv(hookHome(t, now.Add(time.Hour)))
		if code := run(context.Background(), []string{"vault-token-helper", "get"}, e); code != 0 || out.String() != "hvs.hook" {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
		}
	})
	t.Run("get logged out prints nothing, exit 0", func(t *testing.T) {
		e, out, _ := testEnv(testutil.Home(t, map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200"}))
		if code := run(context.Background(), []string{"vault-token-helper", "get"}, e); code != 0 || out.String() != "" {
			t.Errorf("exit %d, stdout %q", code, out.String())
		}
	})
	// Elsewhere than the profile's Vault: no token, exit 0 (the vault
	// CLI then goes on without one), one line on stderr saying why.
	for name, set := range map[string][2]string{
		"get with VAULT_AGENT_ADDR gives no token":        {"VAULT_AGENT_ADDR", "http://127.0.0.1:8100"},
		"get with another Vault's address gives no token": {"VAULT_ADDR", "http://127.0.0.1:8300"},
		"get without VAULT_ADDR gives no token":           {"VAULT_ADDR", ""},
	} {
		t.Run(name, func(t *testing.T) {
			env := hookHome(t, now.Add(time.Hour))
			env[set[0]] = set[1]
			e, out, errb := testEnv(env)
			if code := run(context.Background(), []string{"vault-token-helper", "get"}, e); code != 0 || out.String() != "" ||
				!strings.Contains(errb.String(), "no token from the token helper") || strings.Count(errb.String(), "\n") != 1 || strings.Contains(errb.String(), "hvs.") {
				t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
			}
		})
	}
	t.Run("store refuses and reads its stdin", func(t *testing.T) {
		e, out, errb := testEnv(hookHome(t, now.Add(time.Hour)))
		in := strings.NewReader("hvs.from-vault-login")
		e.Stdin = in
		code := run(context.Background(), []string{"vault-token-helper", "store"}, e)
		if code != 1 || in.Len() != 0 || out.String() != "" || strings.Contains(errb.String(), "hvs.from") || !strings.Contains(errb.String(), "alilogin login") {
			t.Errorf("exit %d, unread %d, stdout %q, stderr %q", code, in.Len(), out.String(), errb.String())
		}
	})
	t.Run("unknown verb", func(t *testing.T) {
		e, _, _ := testEnv(nil)
		if code := run(context.Background(), []string{"vault-token-helper", "list"}, e); code != exitUsage {
			t.Errorf("exit %d", code)
		}
	})
}

// TestNewCommandsComplete: cobra's completion offers the shells, the
// verbs and the new flags.
func TestNewCommandsComplete(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "hook", ""}, []string{"bash", "zsh", "fish"}},
		{[]string{"__complete", "vault-token-helper", ""}, []string{"get", "store", "erase"}},
		{[]string{"__complete", "exec", "--secret"}, []string{"--secret", "--secret-file"}},
		{[]string{"__complete", "status", "--sh"}, []string{"--short", "--show-tokens"}},
		{[]string{"__complete", "setup", "--vault"}, []string{"--vault-token-helper"}},
	} {
		e, out, _ := testEnv(testutil.Home(t, nil))
		run(context.Background(), c.args, e)
		var got []string
		for _, l := range strings.Split(out.String(), "\n") {
			if l != "" && !strings.HasPrefix(l, ":") {
				name, _, _ := strings.Cut(l, "\t")
				got = append(got, name)
			}
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", c.args, diff)
		}
	}
}
