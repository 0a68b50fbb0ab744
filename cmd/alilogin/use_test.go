package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// twoLogins is a test home (file store) with valid logins of profiles
// ci and admin, and no current profile.
func twoLogins(t *testing.T) map[string]string {
	t.Helper()
	env := testutil.Home(t, map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200"})
	st := openFileStore(t, env)
	for _, p := range []string{"ci", "admin"} {
		if err := st.Put(&store.Record{Version: store.RecordVersion, Profile: p, VaultAddr: "http://127.0.0.1:8200",
			Vault: &store.Token{Secret: secret.New("hvs." + p), ExpiresAt: time.Now().Add(time.Hour)}}); err != nil {
			t.Fatal(err)
		}
	}
	return env
}

// alilogin runs alilogin in env and returns the exit code, stdout and stderr.
func alilogin(env map[string]string, args ...string) (int, string, string) {
	e, out, errb := testEnv(env)
	code := run(context.Background(), args, e)
	return code, out.String(), errb.String()
}

// TestUseMakesProfileCurrent: with two stored logins, token and status
// --short exit 2 until `alilogin use P`; then they use P, status marks
// it, ALILOGIN_PROFILE and --profile still win; use refuses a profile
// with no stored login (exit 4); `use` prints the current one, --unset
// clears it.
func TestUseMakesProfileCurrent(t *testing.T) {
	env := twoLogins(t)
	if code, _, errb := alilogin(env, "token", "--for", "vault"); code != exitUsage || !strings.Contains(errb, "alilogin use PROFILE") {
		t.Fatalf("token with two logins and none current: exit %d, %s", code, errb)
	}
	if code, _, errb := alilogin(env, "use"); code != exitError || !strings.Contains(errb, "no current profile") {
		t.Errorf("use with none set: exit %d, %s", code, errb)
	}
	if code, _, errb := alilogin(env, "use", "nosuch"); code != exitLoginNeeded || !strings.Contains(errb, "alilogin login --profile nosuch") {
		t.Errorf("use of a profile with no stored login: exit %d, %s", code, errb)
	}
	if code, _, errb := alilogin(env, "use", "../x"); code != exitUsage {
		t.Errorf("use of an invalid name: exit %d, %s", code, errb)
	}
	if code, _, errb := alilogin(env, "use", "admin"); code != 0 || !strings.Contains(errb, "current profile: admin") {
		t.Fatalf("use admin: exit %d, %s", code, errb)
	}
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"token", "--for", "vault"}, nil, "hvs.admin\n"},
		{[]string{"status", "--short"}, nil, "admin 59m\n"},
		{[]string{"use"}, nil, "admin\n"},
		{[]string{"token", "--for", "vault"}, map[string]string{"ALILOGIN_PROFILE": "ci"}, "hvs.ci\n"},
		{[]string{"token", "--for", "vault", "--profile", "ci"}, nil, "hvs.ci\n"},
	} {
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		for k, v := range c.env {
			e[k] = v
		}
		if code, out, errb := alilogin(e, c.args...); code != 0 || out != c.want {
			t.Errorf("%v %v: exit %d, %q, want %q (%s)", c.env, c.args, code, out, c.want, errb)
		}
	}
	code, out, _ := alilogin(env, "status", "--all", "--json")
	var all []struct {
		Profile string `json:"profile"`
		Current bool   `json:"current"`
	}
	if err := json.Unmarshal([]byte(out), &all); err != nil || code != 0 {
		t.Fatalf("status --all --json: exit %d, %v\n%s", code, err, out)
	}
	got := map[string]bool{}
	for _, s := range all {
		got[s.Profile] = s.Current
	}
	if diff := cmp.Diff(map[string]bool{"admin": true, "ci": false}, got); diff != "" {
		t.Errorf("status --json current (-want +got):\n%s", diff)
	}
	if _, out, _ := alilogin(env, "status"); !strings.Contains(out, "admin (current)") {
		t.Errorf("status does not mark the current profile:\n%s", out)
	}
	// ALILOGIN_PROFILE set: use says it wins.
	e := map[string]string{"ALILOGIN_PROFILE": "ci"}
	for k, v := range env {
		if k != "ALILOGIN_PROFILE" {
			e[k] = v
		}
	}
	if _, _, errb := alilogin(e, "use", "admin"); !strings.Contains(errb, "ALILOGIN_PROFILE=ci is set here and wins") {
		t.Errorf("use under ALILOGIN_PROFILE does not say it wins: %s", errb)
	}
	if code, _, _ := alilogin(env, "use", "--unset"); code != 0 {
		t.Errorf("use --unset: exit %d", code)
	}
	if code, _, _ := alilogin(env, "token", "--for", "vault"); code != exitUsage {
		t.Errorf("token after use --unset: exit %d, want 2", code)
	}
}

// TestLogoutClearsCurrentProfile: a logout of the current profile clears
// it; a logout of another leaves it.
func TestLogoutClearsCurrentProfile(t *testing.T) {
	env := twoLogins(t)
	alilogin(env, "use", "admin")
	if code, _, errb := alilogin(env, "logout", "--profile", "ci"); code > exitPartial {
		t.Fatalf("logout ci: exit %d, %s", code, errb)
	}
	if _, out, _ := alilogin(env, "use"); out != "admin\n" {
		t.Errorf("after logging out of another profile, the current one is %q", out)
	}
	code, _, errb := alilogin(env, "logout")
	if code > exitPartial || !strings.Contains(errb, "logged out of profile admin") || !strings.Contains(errb, "admin was the current profile") {
		t.Fatalf("logout of the current profile: exit %d, %s", code, errb)
	}
	if code, out, _ := alilogin(env, "use"); code != exitError || out != "" {
		t.Errorf("after logging out of the current profile: use prints %q (exit %d)", out, code)
	}
}

// TestHookFollowsCurrentProfile: the hook's refresh exports the current
// profile's tokens and never ALILOGIN_PROFILE itself, which would pin the
// shell to one profile and hide a later `alilogin use`; the snippet
// reads the current-profile file.
func TestHookFollowsCurrentProfile(t *testing.T) {
	env := twoLogins(t)
	alilogin(env, "use", "admin")
	_, out, errb := alilogin(env, "hook", "bash", "--env")
	if !strings.Contains(out, "export VAULT_TOKEN='hvs.admin';") || strings.Contains(out, "ALILOGIN_PROFILE") {
		t.Errorf("hook --env after use admin (%s):\n%s", errb, out)
	}
	alilogin(env, "use", "ci")
	if _, out, _ := alilogin(env, "hook", "bash", "--env"); !strings.Contains(out, "export VAULT_TOKEN='hvs.ci';") {
		t.Errorf("hook --env after use ci:\n%s", out)
	}
	_, snippet, _ := alilogin(env, "hook", "zsh")
	if !strings.Contains(snippet, env["XDG_STATE_HOME"]+"/alilogin/current-profile") {
		t.Errorf("the snippet does not read the current-profile file:\n%s", snippet)
	}
}

// TestProfileFlagCompletes: --profile of every command completes the
// stored logins and the configured profiles; `use` the stored ones.
func TestProfileFlagCompletes(t *testing.T) {
	env := twoLogins(t)
	writeTestConfig(t, env, "profile \"build-operator\" {\n  roles = [\"ops\"]\n}\n")
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "token", "--profile", ""}, []string{"admin", "build-operator", "ci"}},
		{[]string{"__complete", "login", "-p", ""}, []string{"admin", "build-operator", "ci"}},
		{[]string{"__complete", "status", "--profile", "a"}, []string{"admin"}},
		{[]string{"__complete", "exec", "--profile", ""}, []string{"admin", "build-operator", "ci"}},
		{[]string{"__complete", "use", ""}, []string{"admin", "ci"}},
		{[]string{"__complete", "use", "ci", ""}, nil},
	} {
		_, out, _ := alilogin(env, c.args...)
		var got []string
		for _, l := range strings.Split(out, "\n") {
			if l != "" && !strings.HasPrefix(l, ":") {
				got = append(got, l)
			}
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", c.args, diff)
		}
	}
}

// writeTestConfig writes env's config file.
func writeTestConfig(t *testing.T, env map[string]string, hcl string) {
	t.Helper()
	dir := filepath.Join(env["XDG_CONFIG_HOME"], "alilogin")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.hcl"), []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAskProfile: the terminal choice takes a number or a name, asks
// again after a wrong answer, and gives up (exit 2) at the end of input.
func TestAskProfile(t *testing.T) {
	names := []string{"ci-admin", "ci-user"}
	for _, c := range []struct {
		in, want string
		code     int
	}{
		{"2\n", "ci-user", 0},
		{"ci-admin\n", "ci-admin", 0},
		{"7\nnope\n1\n", "ci-admin", 0},
		{"", "", exitUsage},
		{"x\ny\nz\n2\n", "", exitUsage},
	} {
		var w strings.Builder
		got, err := askProfile(context.Background(), strings.NewReader(c.in), &w, names)
		if got != c.want || cmdroot.Code(err, exitError) != c.code {
			t.Errorf("input %q: %q, %v; want %q (exit %d)", c.in, got, err, c.want, c.code)
		}
		if !strings.Contains(w.String(), "  1) ci-admin\n  2) ci-user\n") {
			t.Errorf("input %q: the choice shown:\n%s", c.in, w.String())
		}
	}
}
