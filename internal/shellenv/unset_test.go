package shellenv

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var shellArgv = map[string][]string{"bash": {"bash", "--norc", "--noprofile", "-c"}, "zsh": {"zsh", "-f", "-c"}, "fish": {"fish", "--no-config", "-c"}}

// fakeAlilogin puts in dir an "alilogin" that prints refresh (what
// `alilogin hook SHELL --env` prints) on every run, and adds a line to
// the file count (when not "") for each run.
func fakeAlilogin(t *testing.T, dir, refresh, count string) {
	t.Helper()
	outFile := filepath.Join(dir, "refresh.out")
	if err := os.WriteFile(outFile, []byte(refresh), 0o600); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\n"
	if count != "" {
		script += "echo x >>'" + count + "'\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "alilogin"), []byte(script+"exec cat '"+outFile+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
}

// runShell runs code with the shell command line argv (shellArgv) and
// env as its whole environment; the test fails when the shell does.
func runShell(t *testing.T, argv []string, code string, env ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(argv[0], append(argv[1:], code)...)
	cmd.Env = env
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	return out.String(), errb.String()
}

// hookSnippet is sh's snippet with a 5-minute minimum TTL, following the
// current-profile file when one is given.
func hookSnippet(t *testing.T, sh string, currentFile ...string) string {
	t.Helper()
	var s string
	var err error
	if len(currentFile) == 1 {
		s, err = HookSnippetFollowing(sh, 5*time.Minute, currentFile[0])
	} else {
		s, err = HookSnippet(sh, 5*time.Minute)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func exportLine(sh, name, value string) string {
	if sh == "fish" {
		return "set -gx " + name + " '" + value + "';\n"
	}
	return "export " + name + "='" + value + "';\n"
}

// TestStateUnsetsWhatItNoLongerSets: in every shell, a refresh unsets
// the token variables the previous one exported and it does not set (a
// profile without Nomad, a failure), and leaves alone a variable of the
// same family the user set themselves before any refresh exported it.
func TestStateUnsetsWhatItNoLongerSets(t *testing.T) {
	for sh, argv := range shellArgv {
		t.Run(sh, func(t *testing.T) {
			var first, second, failed strings.Builder
			first.WriteString(exportLine(sh, "VAULT_TOKEN", "v1") + exportLine(sh, "NOMAD_TOKEN", "n1"))
			HookState{Next: time.Unix(1, 0), Exported: []string{"VAULT_TOKEN", "NOMAD_TOKEN"}}.Write(&first, sh)
			second.WriteString(exportLine(sh, "VAULT_TOKEN", "v2"))
			HookState{Next: time.Unix(1, 0), Exported: []string{"VAULT_TOKEN"}}.Write(&second, sh)
			HookState{Next: time.Unix(1, 0), Msg: "alilogin: login needed"}.Write(&failed, sh)
			show := "\nprintf '[%s][%s][%s]\\n' \"$VAULT_TOKEN\" \"$NOMAD_TOKEN\" \"$CONSUL_HTTP_TOKEN\"\n"
			code := exportLine(sh, "CONSUL_HTTP_TOKEN", "users-own") + first.String() + show + second.String() + show + failed.String() + show
			out, err := exec.Command(argv[0], append(argv[1:], code)...).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if want := "[v1][n1][users-own]\n[v2][][users-own]\n[][][users-own]\n"; string(out) != want {
				t.Errorf("got %q, want %q\ncode:\n%s", out, want, code)
			}
		})
	}
}

// TestSnippetTracesNoToken: with the shell's trace on (bash and zsh
// set -x, fish fish_trace) the snippet's refresh traces no token, and
// the trace is on again after it (bash, zsh).
func TestSnippetTracesNoToken(t *testing.T) {
	for sh, argv := range shellArgv {
		t.Run(sh, func(t *testing.T) {
			var refresh strings.Builder
			refresh.WriteString(exportLine(sh, "VAULT_TOKEN", "hvs.traced-secret"))
			HookState{Next: time.Now().Add(time.Hour), Exported: []string{"VAULT_TOKEN"}}.Write(&refresh, sh)
			bin := t.TempDir()
			fakeAlilogin(t, bin, refresh.String(), "")
			snippet := hookSnippet(t, sh)
			code := `eval "$SNIPPET"; set -x; __alilogin_hook; true after-hook; set +x; printf 'VAULT_TOKEN=%s\n' "$VAULT_TOKEN"`
			if sh == "fish" {
				code = `echo $SNIPPET | source; set -g fish_trace 1; __alilogin_hook; true after-hook; set -e fish_trace; printf 'VAULT_TOKEN=%s\n' "$VAULT_TOKEN"`
			}
			stdout, stderr := runShell(t, argv, code, "PATH="+bin+":"+os.Getenv("PATH"), "SNIPPET="+snippet, "HOME="+bin)
			if !strings.Contains(stdout, "VAULT_TOKEN=hvs.traced-secret") {
				t.Fatalf("the refresh was not applied: %q\n%s", stdout, stderr)
			}
			if strings.Contains(stderr, "traced-secret") {
				t.Errorf("the trace shows the token:\n%s", stderr)
			}
			if !strings.Contains(stderr, "after-hook") {
				t.Errorf("the trace is off after the hook:\n%s", stderr)
			}
		})
	}
}

// On Windows, VAULT_SKıP_VERIFY (dotless ı) is read as VAULT_SKIP_VERIFY,
// and env unsets it (envcontract.Clear). PowerShell can name it; sh and
// fish cannot, and Write refuses it there rather than leave it set.
func TestWriteUnsetsANonASCIINameInPowerShellAndRefusesItInSh(t *testing.T) {
	vars := []Var{{Name: "VAULT_SK\u0131P_VERIFY", Unset: true}}
	var b bytes.Buffer
	if err := Write(&b, PowerShell, vars); err != nil {
		t.Fatal(err)
	}
	if want := "Remove-Item Env:VAULT_SK\u0131P_VERIFY -ErrorAction SilentlyContinue\n"; b.String() != want {
		t.Errorf("PowerShell: %q, want %q", b.String(), want)
	}
	for _, sh := range []string{Sh, Fish} {
		if err := Write(&b, sh, vars); err == nil {
			t.Errorf("%s: no error for a name it cannot unset", sh)
		}
	}
	if err := Write(&b, PowerShell, []Var{{Name: "VAULT_SK\u0131P_VERIFY", Value: "x"}}); err == nil {
		t.Error("PowerShell: a non-ASCII name set, not only unset")
	}
}
