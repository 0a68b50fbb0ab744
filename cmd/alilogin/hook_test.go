package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/shellenv"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/testutil"
)

// hookBash is the real bash; the test fails without it.
func hookBash(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed: %v", err)
	}
	return p
}

// twoProfileHookHomes is a file store with two fresh logins: admin (Vault and
// Nomad) and ci (Vault only), bound to the configured servers.
func twoProfileHookHomes(t *testing.T) map[string]string {
	t.Helper()
	env := testutil.Home(t, map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200", "NOMAD_ADDR": "http://127.0.0.1:4646"})
	st := openFileStore(t, env)
	exp := time.Now().Add(time.Hour)
	for _, r := range []*store.Record{
		{Version: store.RecordVersion, Profile: "admin", VaultAddr: "http://127.0.0.1:8200", NomadAddr: "http://127.0.0.1:4646",
			Vault: &store.Token{Secret: secret.New("hvs.admin-vault"), ExpiresAt: exp},
			Nomad: &store.Token{Secret: secret.New("admin-nomad-secret"), ExpiresAt: exp}},
		{Version: store.RecordVersion, Profile: "ci", VaultAddr: "http://127.0.0.1:8200",
			Vault: &store.Token{Secret: secret.New("hvs.ci-vault"), ExpiresAt: exp}},
	} {
		if err := st.Put(r); err != nil {
			t.Fatal(err)
		}
	}
	return env
}

// bashLines runs code in bash (no rc files) with env as its whole
// environment and returns its output (stdout and stderr) split into
// lines; the test fails when bash fails or prints fewer than n.
func bashLines(t *testing.T, bash string, n int, code string, env ...string) []string {
	t.Helper()
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", code)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	if len(lines) < n {
		t.Fatalf("bash printed %q", out)
	}
	return lines
}

// hookOut is what the snippet's refresh prints for profile.
func hookOut(t *testing.T, env map[string]string, profile string) string {
	t.Helper()
	e2 := map[string]string{}
	for k, v := range env {
		e2[k] = v
	}
	e2["ALILOGIN_PROFILE"] = profile
	e, out, errb := testEnv(e2)
	if code := run(context.Background(), []string{"hook", "bash", "--env"}, e); code != 0 {
		t.Fatalf("hook --env: exit %d: %s", code, errb.String())
	}
	return out.String()
}

// TestHookProfileSwitchLeavesNoOtherProfilesToken: the user's
// shell holds admin's tokens (the hook applied them); they set
// ALILOGIN_PROFILE=ci ("the next prompt fetches that profile's tokens").
// After the refresh, the shell must hold no token of admin: neither the
// Nomad token ci does not have, nor, when ci (or any profile) is not
// logged in, admin's Vault token. exec drops such stale tokens
// (staleVars); the hook leaves them exported, so `nomad job run` in a
// shell that says ALILOGIN_PROFILE=ci acts as admin.
func TestHookProfileSwitchLeavesNoOtherProfilesToken(t *testing.T) {
	bash := hookBash(t)
	env := twoProfileHookHomes(t)
	admin := hookOut(t, env, "admin")
	for _, c := range []struct{ name, profile string }{
		{"to a profile without nomad", "ci"},
		{"to a profile not logged in", "nobody"},
	} {
		t.Run(c.name, func(t *testing.T) {
			next := hookOut(t, env, c.profile)
			lines := bashLines(t, bash, 3, `eval "$ADMIN"; export ALILOGIN_PROFILE="$P"; eval "$NEXT"; printf '%s\n%s\n%s\n' "${ALILOGIN_PROFILE-}" "${VAULT_TOKEN-}" "${NOMAD_TOKEN-}"`,
				"PATH="+os.Getenv("PATH"), "ADMIN="+admin, "NEXT="+next, "P="+c.profile)
			if lines[1] == "hvs.admin-vault" || lines[2] == "admin-nomad-secret" {
				t.Errorf("after switching to %s (ALILOGIN_PROFILE=%q), the shell still exports admin's tokens: VAULT_TOKEN=%q NOMAD_TOKEN=%q\nrefresh printed:\n%s",
					c.profile, lines[0], lines[1], lines[2], next)
			}
		})
	}
}

// TestHookXtraceShowsNoToken: a user who runs `set -x` (to debug
// a prompt, or with BASH_XTRACEFD going to a log file) must not get the
// tokens traced when the hook refreshes: the snippet's eval of the
// export lines prints every token on the trace.
func TestHookXtraceShowsNoToken(t *testing.T) {
	bash := hookBash(t)
	env := twoProfileHookHomes(t)
	refresh := hookOut(t, env, "admin")
	snippet, err := shellenv.HookSnippet("bash", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// alilogin on PATH prints what the real refresh printed above.
	bin := t.TempDir()
	outFile := filepath.Join(bin, "refresh.out")
	if err := os.WriteFile(outFile, []byte(refresh), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "alilogin"), []byte("#!/bin/sh\nexec cat "+outFile+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", `eval "$SNIPPET"; set -x; __alilogin_hook; { set +x; } 2>/dev/null; printf 'VAULT_TOKEN=%s\n' "$VAULT_TOKEN"`)
	cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "SNIPPET=" + snippet}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bash: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "VAULT_TOKEN=hvs.admin-vault") {
		t.Fatalf("the hook did not apply the refresh: %q", stdout.String())
	}
	for _, tok := range []string{"hvs.admin-vault", "admin-nomad-secret"} {
		if strings.Contains(stderr.String(), tok) {
			t.Errorf("set -x traced the token %q:\n%s", tok, stderr.String())
		}
	}
}

// TestHookDropsTokenWhenVaultAddrPointsElsewhere: the hook exported
// admin's Vault token with VAULT_ADDR of its Vault; the user points
// VAULT_ADDR at another Vault in that shell. The refresh sees the other
// Vault (a binding error, said once) but leaves the token exported next
// to the other address, so every plain vault command sends the token to
// the other Vault: a token must go only to its own origin.
func TestHookDropsTokenWhenVaultAddrPointsElsewhere(t *testing.T) {
	bash := hookBash(t)
	env := twoProfileHookHomes(t)
	admin := hookOut(t, env, "admin")
	env["VAULT_ADDR"] = "http://127.0.0.1:8300"
	next := hookOut(t, env, "admin")
	lines := bashLines(t, bash, 2, `eval "$ADMIN"; export VAULT_ADDR=http://127.0.0.1:8300; eval "$NEXT"; printf '%s\n%s\n' "${VAULT_ADDR-}" "${VAULT_TOKEN-}"`,
		"PATH="+os.Getenv("PATH"), "ADMIN="+admin, "NEXT="+next)
	if lines[1] == "hvs.admin-vault" && lines[0] != "http://127.0.0.1:8200" {
		t.Errorf("after the refresh the shell exports the Vault token of http://127.0.0.1:8200 with VAULT_ADDR=%s\nrefresh printed:\n%s", lines[0], next)
	}
}
