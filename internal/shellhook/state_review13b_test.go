package shellhook

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReview13bInheritedStateRunsNoCode: the snippet reads its state
// variables (__alilogin_next and the others) from the shell, and a shell
// starts with whatever its parent exported under those names. In bash
// and zsh the fast path evaluates ${__alilogin_next} as arithmetic, where
// an array subscript runs command substitutions: a value like
// 'a[$(cmd)]' from the environment runs cmd at every prompt. The
// state's values must be taken as data only.
func TestReview13bInheritedStateRunsNoCode(t *testing.T) {
	for _, sh := range []string{"bash", "zsh"} {
		t.Run(sh, func(t *testing.T) {
			argv := shellArgv[sh]
			dir := t.TempDir()
			marker := filepath.Join(dir, "ran")
			var refresh strings.Builder
			State{Next: time.Now().Add(time.Hour)}.Write(&refresh, sh)
			outFile := filepath.Join(dir, "refresh.out")
			if err := os.WriteFile(outFile, []byte(refresh.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "alilogin"), []byte("#!/bin/sh\nexec cat "+outFile+"\n"), 0o700); err != nil {
				t.Fatal(err)
			}
			snippet, err := Snippet(sh, 5*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
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

// TestReview13bVerboseShowsNoToken: bash's set -v (verbose) prints each
// string eval reads, as set -x prints each command: the snippet turns
// xtrace off around its eval but not verbose, and the refresh's
// `export VAULT_TOKEN=...` line reaches stderr (or a log of it).
func TestReview13bVerboseShowsNoToken(t *testing.T) {
	argv := shellArgv["bash"]
	dir := t.TempDir()
	var refresh strings.Builder
	refresh.WriteString(exportLine("bash", "VAULT_TOKEN", "hvs.verbose-secret"))
	State{Next: time.Now().Add(time.Hour), Exported: []string{"VAULT_TOKEN"}}.Write(&refresh, "bash")
	outFile := filepath.Join(dir, "refresh.out")
	if err := os.WriteFile(outFile, []byte(refresh.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alilogin"), []byte("#!/bin/sh\nexec cat "+outFile+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	snippet, err := Snippet("bash", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], append(argv[1:], `eval "$SNIPPET"; set -v; __alilogin_hook; set +v; printf 'VAULT_TOKEN=%s\n' "$VAULT_TOKEN"`)...)
	cmd.Env = []string{"PATH=" + dir + ":" + os.Getenv("PATH"), "SNIPPET=" + snippet, "HOME=" + dir}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "VAULT_TOKEN=hvs.verbose-secret") {
		t.Fatalf("the refresh was not applied: %q\n%s", stdout.String(), stderr.String())
	}
	if strings.Contains(stderr.String(), "verbose-secret") {
		t.Errorf("set -v shows the token:\n%s", stderr.String())
	}
}
