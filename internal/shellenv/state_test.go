package shellenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInheritedStateRunsNoCode: the snippet reads its state
// variables (__alilogin_next and the others) from the shell, and a shell
// starts with whatever its parent exported under those names. In bash
// and zsh the fast path evaluates ${__alilogin_next} as arithmetic, where
// an array subscript runs command substitutions: a value like
// 'a[$(cmd)]' from the environment runs cmd at every prompt. The
// state's values must be taken as data only.
func TestInheritedStateRunsNoCode(t *testing.T) {
	for _, sh := range []string{"bash", "zsh"} {
		t.Run(sh, func(t *testing.T) {
			argv := shellArgv[sh]
			dir := t.TempDir()
			marker := filepath.Join(dir, "ran")
			var refresh strings.Builder
			HookState{Next: time.Now().Add(time.Hour)}.Write(&refresh, sh)
			fakeAlilogin(t, dir, refresh.String(), "")
			snippet := hookSnippet(t, sh)
			cmd := exec.Command(argv[0], append(argv[1:], `eval "$SNIPPET"; __alilogin_hook; true`)...)
			cmd.Env = []string{
				"PATH=" + dir + ":" + os.Getenv("PATH"), "SNIPPET=" + snippet, "HOME=" + dir,
				// What a hostile parent leaves in the environment.
				"__alilogin_profile=", "__alilogin_addrs=||",
				"__alilogin_next=a[$(touch " + marker + ")]",
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Logf("%v\n%s", err, out)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Errorf("%s: __alilogin_next from the environment ran a command in the hook", sh)
			}
		})
	}
}

// TestSnippetVerboseShowsNoToken: bash's set -v (verbose) prints each
// string eval reads, as set -x prints each command: the snippet turns
// xtrace off around its eval but not verbose, and the refresh's
// `export VAULT_TOKEN=...` line reaches stderr (or a log of it).
func TestSnippetVerboseShowsNoToken(t *testing.T) {
	argv := shellArgv["bash"]
	dir := t.TempDir()
	var refresh strings.Builder
	refresh.WriteString(exportLine("bash", "VAULT_TOKEN", "hvs.verbose-secret"))
	HookState{Next: time.Now().Add(time.Hour), Exported: []string{"VAULT_TOKEN"}}.Write(&refresh, "bash")
	fakeAlilogin(t, dir, refresh.String(), "")
	snippet := hookSnippet(t, "bash")
	stdout, stderr := runShell(t, argv, `eval "$SNIPPET"; set -v; __alilogin_hook; set +v; printf 'VAULT_TOKEN=%s\n' "$VAULT_TOKEN"`,
		"PATH="+dir+":"+os.Getenv("PATH"), "SNIPPET="+snippet, "HOME="+dir)
	if !strings.Contains(stdout, "VAULT_TOKEN=hvs.verbose-secret") {
		t.Fatalf("the refresh was not applied: %q\n%s", stdout, stderr)
	}
	if strings.Contains(stderr, "verbose-secret") {
		t.Errorf("set -v shows the token:\n%s", stderr)
	}
}

// TestNestedShellDropsParentsToken: the parent shell's hook
// exports VAULT_TOKEN and NOMAD_TOKEN, so a shell started from it (a
// subshell of `alienv enter`, `ALILOGIN_PROFILE=other bash`, screen)
// inherits them, but not __alilogin_vars, which the parent does not
// export. The child's refresh for another profile that is not logged in
// then leaves the parent profile's tokens in place: the child says
// "login needed" for its profile and still holds the other profile's
// tokens, though a profile switch or a failed refresh is to leave no
// token that no longer applies.
func TestNestedShellDropsParentsToken(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		t.Run(sh, func(t *testing.T) {
			argv := shellArgv[sh]
			dir := t.TempDir()
			var ok, failed strings.Builder
			ok.WriteString(exportLine(sh, "VAULT_TOKEN", "hvs.profile-a") + exportLine(sh, "NOMAD_TOKEN", "nomad-a"))
			HookState{Next: time.Now().Add(time.Hour), Profile: "a", Exported: []string{"VAULT_TOKEN", "NOMAD_TOKEN"}}.Write(&ok, sh)
			HookState{Next: time.Now().Add(time.Minute), Profile: "b", Msg: "alilogin: profile b: login needed"}.Write(&failed, sh)
			for name, text := range map[string]string{"a.out": ok.String(), "b.out": failed.String()} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			shim := "#!/bin/sh\nif [ \"$ALILOGIN_PROFILE\" = a ]; then exec cat " + filepath.Join(dir, "a.out") + "; fi\nexec cat " + filepath.Join(dir, "b.out") + "\n"
			if err := os.WriteFile(filepath.Join(dir, "alilogin"), []byte(shim), 0o700); err != nil {
				t.Fatal(err)
			}
			snippet := hookSnippet(t, sh)
			quoted := "'" + strings.Join(argv, "' '") + "'"
			child := `eval "$SNIPPET"; __alilogin_hook; printf '[%s][%s]\n' "$VAULT_TOKEN" "$NOMAD_TOKEN"`
			code := `eval "$SNIPPET"; __alilogin_hook; ALILOGIN_PROFILE=b ` + quoted + ` "$CHILD"`
			if sh == "fish" {
				child = `echo $SNIPPET | source; __alilogin_hook; printf '[%s][%s]\n' "$VAULT_TOKEN" "$NOMAD_TOKEN"`
				code = `echo $SNIPPET | source; __alilogin_hook; ALILOGIN_PROFILE=b ` + quoted + ` "$CHILD"`
			}
			stdout, stderr := runShell(t, argv, code, "PATH="+dir+":"+os.Getenv("PATH"), "SNIPPET="+snippet, "CHILD="+child, "HOME="+dir, "ALILOGIN_PROFILE=a")
			if !strings.Contains(stderr, "login needed") {
				t.Fatalf("the child's refresh did not run: %q %q", stdout, stderr)
			}
			if got := strings.TrimSpace(stdout); got != "[][]" {
				t.Errorf("the child shell for profile b keeps profile a's tokens: %s", got)
			}
		})
	}
}
