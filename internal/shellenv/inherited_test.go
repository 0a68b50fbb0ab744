package shellenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHookIgnoresInheritedState: in every shell, state variables that
// the environment brings (a launcher setting __alilogin_next far ahead,
// with __alilogin_profile and __alilogin_addrs matching the shell) do
// not suppress the first refresh; __alilogin_vars, inherited by design,
// is kept.
func TestHookIgnoresInheritedState(t *testing.T) {
	for sh, argv := range shellArgv {
		t.Run(sh, func(t *testing.T) {
			dir := t.TempDir()
			count := filepath.Join(dir, "count")
			fakeAlilogin(t, dir, "", count)
			snippet := hookSnippet(t, sh)
			eval := `eval "$SNIPPET"` + "\n"
			if sh == "fish" {
				eval = "echo $SNIPPET | source\n"
			}
			code := eval + "printf 'vars=%s\\n' \"$__alilogin_vars\"\n__alilogin_hook\ntrue\n"
			cmd := exec.Command(argv[0], append(argv[1:], code)...)
			cmd.Env = []string{"PATH=" + dir + ":" + os.Getenv("PATH"), "SNIPPET=" + snippet, "HOME=" + dir,
				"__alilogin_next=99999999999", "__alilogin_next_uptime=99999999999", "__alilogin_profile=", "__alilogin_addrs=||",
				"__alilogin_current=", "__alilogin_vars=VAULT_TOKEN"}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(string(out), "vars=VAULT_TOKEN") {
				t.Errorf("__alilogin_vars was not kept: %s", out)
			}
			if b, _ := os.ReadFile(count); strings.Count(string(b), "x") != 1 {
				t.Errorf("%d refreshes at the first prompt, want 1 (state taken from the environment)", strings.Count(string(b), "x"))
			}
		})
	}
}
