package shellenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSnippetFollowsCurrentProfile: with tokens far from expiry, the
// snippet refreshes at the first prompt after the current-profile file
// (`alilogin use`) changed, appeared or went away, and at no other: it
// reads the file with the shell's read builtin and compares.
func TestSnippetFollowsCurrentProfile(t *testing.T) {
	for _, sh := range HookShells {
		t.Run(sh, func(t *testing.T) {
			argv := shellArgv[sh]
			dir := t.TempDir()
			cur := filepath.Join(dir, "state dir", "current-profile") // a space: quoted
			if err := os.MkdirAll(filepath.Dir(cur), 0o700); err != nil {
				t.Fatal(err)
			}
			var refresh strings.Builder
			HookState{Next: time.Now().Add(time.Hour), NextUptime: 100 * 365 * 24 * time.Hour, Addrs: "||"}.Write(&refresh, sh) // no server address set
			count := filepath.Join(dir, "count")
			fakeAlilogin(t, dir, refresh.String(), count)
			snippet := hookSnippet(t, sh, cur)
			calls := func() int { b, _ := os.ReadFile(count); return strings.Count(string(b), "x") }
			mark := `printf '%s\n' "$(cat '` + count + `' 2>/dev/null | wc -l)"`
			steps := []struct {
				code string
				want int
			}{
				{"__alilogin_hook", 1},                         // the first prompt
				{"__alilogin_hook", 1},                         // nothing changed
				{`printf 'ci\n' >"$CUR"; __alilogin_hook`, 2},  // alilogin use ci
				{"__alilogin_hook", 2},                         // nothing changed
				{`printf 'ops\n' >"$CUR"; __alilogin_hook`, 3}, // alilogin use ops
				{`rm "$CUR"; __alilogin_hook`, 4},              // logout of the current profile
				{"__alilogin_hook", 4},
			}
			var code strings.Builder
			if sh == "fish" {
				code.WriteString("echo $SNIPPET | source\n")
			} else {
				code.WriteString("eval \"$SNIPPET\"\n")
			}
			for _, s := range steps {
				code.WriteString(s.code + "\n" + mark + "\n")
			}
			cmd := exec.Command(argv[0], append(argv[1:], code.String())...)
			cmd.Env = []string{"PATH=" + dir + ":" + os.Getenv("PATH"), "SNIPPET=" + snippet, "HOME=" + dir, "CUR=" + cur}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			got := strings.Fields(string(out))
			if len(got) != len(steps) {
				t.Fatalf("output %q, want one count per step", out)
			}
			for i, s := range steps {
				if got[i] != strings.TrimSpace(string(rune('0'+s.want))) {
					t.Errorf("after step %d (%s): alilogin ran %s times, want %d", i+1, s.code, got[i], s.want)
				}
			}
			if calls() != steps[len(steps)-1].want {
				t.Errorf("alilogin ran %d times in all", calls())
			}
		})
	}
}
