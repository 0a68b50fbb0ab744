package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/teststack"
)

var hookGateRE = regexp.MustCompile(`N=([0-9a-f-]{36}) A=(http://127\.0\.0\.1:[0-9]+)`)

// TestAgentHookFollowsTheAgent: the shell hook's agent mode (`alilogin
// hook bash --agent`) puts the agent's addresses and gates in the shell,
// and the real nomad CLI works there; when the agent stops and starts
// again (its gates are dead), the next prompt notices it without any
// command, through the gates file, and puts new gates in; after a logout
// the next prompt says to log in and unsets the gates.
func TestAgentHookFollowsTheAgent(t *testing.T) {
	au, _ := newAgentUserFor(t, 4*time.Minute)
	binDir := t.TempDir()
	if err := os.Symlink(bin, filepath.Join(binDir, "alilogin")); err != nil {
		t.Fatal(err)
	}
	au.env["PATH"] = binDir + ":" + teststack.BinDir() + ":" + os.Getenv("PATH")
	au.env["TERM"] = "xterm-256color"
	au.env["ALILOGIN_PROFILE"] = au.m.profile
	c := startTTY(t, au.environ(), "bash", "--norc", "--noprofile", "-i")
	c.typeLine(`PS1='PROMPT> '; eval "$(alilogin hook bash --agent)"`)
	c.waitPrompt()

	gate := func() (string, string) {
		t.Helper()
		m := hookGateRE.FindStringSubmatch(c.run(`echo "N=$NOMAD_TOKEN A=$NOMAD_ADDR"`))
		if m == nil {
			t.Fatalf("no gate in the shell; screen:\n%s", c.screen())
		}
		return m[1], m[2]
	}
	works := func(what string) {
		t.Helper()
		if out := c.run(`nomad job status >/dev/null && echo NOMAD-OK`); !strings.Contains(out, "NOMAD-OK") {
			t.Errorf("%s: nomad job status in the shell failed:\n%s", what, out)
		}
	}
	first, addr := gate()
	works("through the hook's gate")
	if strings.Contains(c.run(`env | grep -c -e _CLIENT_KEY= -e _CACERT= || true`), "1") {
		t.Errorf("a certificate variable is set in the shell")
	}

	// The agent stops (and with it every gate); the next prompt starts
	// one and takes new gates.
	au.ok(t, "agent", "stop")
	c.run("true")
	second, _ := gate()
	if second == first {
		t.Errorf("the hook kept the dead agent's gate")
	}
	works("after the agent was started again")

	// A logout elsewhere: the next prompt says so and unsets the gates.
	if p := au.run(t, "logout", "--profile", au.m.profile); p.code() != 0 {
		t.Fatalf("logout: exit %d\n%s", p.code(), p.stderr.String())
	}
	c.run("true")
	if out := c.run(`echo "N=${NOMAD_TOKEN-unset}"`); !strings.Contains(out, "N=unset") {
		t.Errorf("after logout the shell still has NOMAD_TOKEN:\n%s", out)
	}
	if !strings.Contains(c.screen(), "alilogin login --profile "+au.m.profile) {
		t.Errorf("after logout the hook did not say to log in; screen:\n%s", c.screen())
	}
	_ = addr
}
