package shellenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHookSurvivesCurrentFileThatIsNoFile: a FIFO at the current-profile
// file (or a symlink to /dev/zero) does not hang the prompt of a hooked
// bash, zsh or fish: the snippet reads the file only if it is a regular
// file, and at most 129 bytes of it. Whoever can put a file in the state
// directory cannot hang the user's shells.
func TestHookSurvivesCurrentFileThatIsNoFile(t *testing.T) {
	for _, kind := range []string{"fifo", "devzero", "regular"} {
		for _, sh := range HookShells {
			t.Run(kind+"/"+sh, func(t *testing.T) {
				argv := shellArgv[sh]
				dir := t.TempDir()
				cur := filepath.Join(dir, "current-profile")
				switch kind {
				case "fifo":
					if err := syscall.Mkfifo(cur, 0o600); err != nil {
						t.Fatal(err)
					}
				case "devzero":
					if err := os.Symlink("/dev/zero", cur); err != nil {
						t.Fatal(err)
					}
				case "regular":
					if err := os.WriteFile(cur, []byte("ci-user\nsecond line\n"), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				var refresh strings.Builder
				HookState{Next: time.Now().Add(time.Hour), NextUptime: 100 * 365 * 24 * time.Hour, Addrs: "||"}.Write(&refresh, sh)
				fakeAlilogin(t, dir, refresh.String(), "")
				snippet := hookSnippet(t, sh, cur)
				code := "eval \"$SNIPPET\"\n__alilogin_hook\necho \"prompt-returned [$__alilogin_current]\"\n"
				if sh == "fish" {
					code = "echo $SNIPPET | source\n__alilogin_hook\necho \"prompt-returned [$__alilogin_current]\"\n"
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], code)...)
				cmd.Env = []string{"PATH=" + dir + ":" + os.Getenv("PATH"), "SNIPPET=" + snippet, "HOME=" + dir}
				out, _ := cmd.CombinedOutput()
				if ctx.Err() != nil {
					t.Fatalf("the %s hook hung at the prompt on a current-profile %s (killed after 5 s)", sh, kind)
				}
				want := "prompt-returned []"
				if kind == "regular" {
					want = "prompt-returned [ci-user]" // the first line, as before
				}
				if !strings.Contains(string(out), want) {
					t.Errorf("hook output %q, want %q", out, want)
				}
			})
		}
	}
}
