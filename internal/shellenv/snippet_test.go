package shellenv

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestSnippetsParse: each snippet is valid code for its shell (the real
// bash, zsh and fish; CI installs them).
func TestSnippetsParse(t *testing.T) {
	for sh, check := range map[string][]string{"bash": {"bash", "-n"}, "zsh": {"zsh", "-n"}, "fish": {"fish", "--no-execute"}} {
		t.Run(sh, func(t *testing.T) {
			s, err := HookSnippet(sh, 5*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := exec.LookPath(check[0]); err != nil {
				t.Fatalf("%s is not installed (make deps)", check[0])
			}
			cmd := exec.Command(check[0], check[1:]...)
			cmd.Stdin = strings.NewReader(s)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s\n%s", err, out, s)
			}
			if !strings.Contains(s, "command alilogin hook "+sh+" --env --min-ttl 5m0s") {
				t.Errorf("the snippet does not refresh with its shell and margin:\n%s", s)
			}
		})
	}
	if _, err := HookSnippet("tcsh", time.Minute); err == nil {
		t.Error("tcsh accepted")
	}
}

// TestStateIsData: a message with shell syntax in it is a value in every
// shell, never code.
func TestStateIsData(t *testing.T) {
	st := HookState{Next: time.Unix(1700000000, 0), NextUptime: 42 * time.Second, Profile: "ci", Msg: "alilogin: it's $(touch /tmp/x) `id` \\ done"}
	for sh, argv := range map[string][]string{"bash": {"bash", "-c"}, "zsh": {"zsh", "-f", "-c"}, "fish": {"fish", "--no-config", "-c"}} {
		t.Run(sh, func(t *testing.T) {
			var b strings.Builder
			st.Write(&b, sh)
			code := b.String() + "\nprintf '%s|%s|%s' \"$__alilogin_next\" \"$__alilogin_profile\" \"$__alilogin_msg\"\n"
			out, err := exec.Command(argv[0], append(argv[1:], code)...).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if want := "1700000000|ci|" + st.Msg; string(out) != want {
				t.Errorf("got %q, want %q", out, want)
			}
			if sh == "fish" && !strings.Contains(b.String(), "__alilogin_next_uptime 42") {
				t.Errorf("fish state lacks the uptime clock:\n%s", b.String())
			}
		})
	}
}
