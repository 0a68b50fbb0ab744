package e2e

// The current profile (alilogin use): what token, env, exec, status and
// the shell hook use when given no --profile, with several logins
// stored; and the completion of profile names in real shells.

import (
	"context"
	"encoding/json"

	"os"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
)

// TestCurrentProfileChoosesAmongLogins: with two stored logins and no
// --profile, token, env and status --short exit 2 until `alilogin use
// P`; then token, env, exec and status --short use P, status --json
// marks it current, ALILOGIN_PROFILE and --profile still win, and a
// logout (without --profile: of P) clears it.
func TestCurrentProfileChoosesAmongLogins(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	a := sessionProfile(t, ctx, "1h", teststack.Mounts{}, "cur-a")
	b := sessionProfile(t, ctx, "1h", teststack.Mounts{}, "cur-b")
	u := sessionUser(t, a, teststack.Mounts{})
	delete(u.env, "ALILOGIN_PROFILE")
	seed(t, ctx, u, a, "cur-a")
	seed(t, ctx, u, b, "cur-b")
	tokA := tokenOut(u.ok(t, "token", "--for", "nomad", "--profile", a))
	tokB := tokenOut(u.ok(t, "token", "--for", "nomad", "--profile", b))

	for _, args := range [][]string{{"token", "--for", "nomad"}, {"env"}, {"status", "--short"}} {
		if p := u.run(t, args...); p.code() != 2 || !strings.Contains(p.stderr.String(), "alilogin use PROFILE") {
			t.Errorf("%v with two logins and none current: exit %d; stderr:\n%s", args, p.code(), p.stderr.String())
		}
	}
	if p := u.run(t, "use", "nosuch-profile"); p.code() != 4 {
		t.Errorf("use of a profile with no stored login: exit %d", p.code())
	}
	u.ok(t, "use", b)
	if got := tokenOut(u.ok(t, "token", "--for", "nomad")); got != tokB {
		t.Errorf("token after use %s is not %s's", b, b)
	}
	if out := u.ok(t, "env", "--shell", "sh").stdout.String(); !strings.Contains(out, "NOMAD_TOKEN='"+tokB+"'") {
		t.Errorf("env after use %s does not export %s's token", b, b)
	}
	if out := u.ok(t, "exec", "--", "sh", "-c", `echo "$ALILOGIN_PROFILE $NOMAD_TOKEN"`).stdout.String(); out != b+" "+tokB+"\n" {
		t.Errorf("exec after use %s: %q", b, out)
	}
	if out := u.ok(t, "status", "--short").stdout.String(); !strings.HasPrefix(out, b+" ") {
		t.Errorf("status --short after use %s: %q", b, out)
	}
	var all []struct {
		Profile string `json:"profile"`
		Current bool   `json:"current"`
	}
	if err := json.Unmarshal([]byte(u.ok(t, "status", "--all", "--json").stdout.String()), &all); err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.Current != (s.Profile == b) {
			t.Errorf("status --json: %s current = %v", s.Profile, s.Current)
		}
	}
	u.env["ALILOGIN_PROFILE"] = a
	if got := tokenOut(u.ok(t, "token", "--for", "nomad")); got != tokA {
		t.Errorf("ALILOGIN_PROFILE=%s does not win over the current profile", a)
	}
	delete(u.env, "ALILOGIN_PROFILE")
	if got := tokenOut(u.ok(t, "token", "--for", "nomad", "--profile", a)); got != tokA {
		t.Errorf("--profile %s does not win over the current profile", a)
	}

	p := u.ok(t, "logout")
	if !strings.Contains(p.stderr.String(), "logged out of profile "+b) || !strings.Contains(p.stderr.String(), b+" was the current profile") {
		t.Errorf("logout without --profile:\n%s", p.stderr.String())
	}
	if p := u.run(t, "use"); p.code() != 1 || p.stdout.String() != "" {
		t.Errorf("a current profile is left after its logout: %q", p.stdout.String())
	}
}

// shellSetup are the shells of the terminal tests: argv, and the line
// that sets the prompt to PROMPT>.
var shellSetup = []struct {
	name   string
	argv   []string
	prompt string
}{
	{"bash", []string{"bash", "--norc", "--noprofile", "-i"}, `PS1='PROMPT> '`},
	{"zsh", []string{"zsh", "-f", "-i"}, `PS1='PROMPT> '`},
	{"fish", []string{"fish", "--no-config", "-i"}, `function fish_prompt; echo -n 'PROMPT> '; end; set -g fish_greeting`},
}

// shimPath puts a PATH shim for alilogin in u's environment that counts
// each run in the returned function (countAlilogin), on a terminal.
func shimPath(t *testing.T, u *user) (calls func() int) {
	t.Helper()
	calls = countAlilogin(t, u)
	u.env["TERM"] = "xterm-256color"
	return calls
}

// TestShellHookFollowsUse: in bash, zsh and fish with the hook, `alilogin
// use` in the shell (or anywhere) brings the new current profile's
// tokens at the next prompt, and the prompts after it start no process
// while nothing changes.
func TestShellHookFollowsUse(t *testing.T) {
	hooks := map[string]string{"bash": `eval "$(alilogin hook bash)"`, "zsh": `eval "$(alilogin hook zsh)"`, "fish": `alilogin hook fish | source`}
	for _, sh := range shellSetup {
		t.Run(sh.name, func(t *testing.T) {
			requireTool(t, sh.name)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			a := sessionProfile(t, ctx, "1h", teststack.Mounts{}, "follow-"+sh.name)
			b := sessionProfile(t, ctx, "1h", teststack.Mounts{}, "follow-"+sh.name)
			u := sessionUser(t, a, teststack.Mounts{})
			delete(u.env, "ALILOGIN_PROFILE")
			delete(u.env, "NOMAD_TOKEN")
			seed(t, ctx, u, a, "follow-"+sh.name)
			seed(t, ctx, u, b, "follow-"+sh.name)
			tokA := tokenOut(u.ok(t, "token", "--for", "nomad", "--profile", a))
			tokB := tokenOut(u.ok(t, "token", "--for", "nomad", "--profile", b))
			u.ok(t, "use", a)
			calls := shimPath(t, u)

			c := startTTY(t, u.environ(), sh.argv...)
			c.typeLine(sh.prompt + "; " + hooks[sh.name])
			c.waitPrompt()
			show := `echo "V=$NOMAD_TOKEN P=$ALILOGIN_PROFILE"`
			if got := strings.TrimSpace(c.run(show)); got != "V="+tokA+" P=" {
				t.Fatalf("with %s current, the shell has %q; screen:\n%s", a, got, c.screen())
			}
			c.run("alilogin use " + b)
			if got := strings.TrimSpace(c.run(show)); got != "V="+tokB+" P=" {
				t.Fatalf("after use %s, the shell has %q; screen:\n%s", b, got, c.screen())
			}
			// Nothing changes: no process at all.
			n0, f0 := calls(), childFaults(t, c.pid)
			for range 3 {
				c.run("true")
			}
			if n, f := calls(), childFaults(t, c.pid); n != n0 || f != f0 {
				t.Errorf("3 prompts with nothing changed started alilogin %d times and children with %d page faults; want none", n-n0, f-f0)
			}
			// A use elsewhere (another terminal): the next prompt follows.
			u.ok(t, "use", a)
			c.run("true")
			if got := strings.TrimSpace(c.run(show)); got != "V="+tokA+" P=" {
				t.Errorf("after use %s in another terminal, the shell has %q", a, got)
			}
		})
	}
}

// TestProfileCompletesInShells: in bash, zsh and fish with alilogin's
// completion loaded, Tab completes the stored profiles after `use` and
// after --profile.
func TestProfileCompletesInShells(t *testing.T) {
	// cobra's bash completion needs bash-completion's functions, which
	// a distribution's /etc/bash.bashrc loads (CI installs the package).
	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	loads := map[string]string{
		"bash": `source ` + bashCompletion + `; source <(alilogin completion bash)`,
		"zsh":  `autoload -U compinit; compinit -u; source <(alilogin completion zsh)`,
		"fish": `alilogin completion fish | source`,
	}
	for _, sh := range shellSetup {
		t.Run(sh.name, func(t *testing.T) {
			requireTool(t, sh.name)
			if _, err := os.Stat(bashCompletion); sh.name == "bash" && err != nil {
				requireTool(t, "bash-completion: "+bashCompletion) // fails in CI, skips elsewhere
			}
			u := newUser(t)
			u.env["ALILOGIN_STORE"] = "keyring"
			alpha, beta := "compl-"+sh.name+"-alpha", "compl-"+sh.name+"-beta"
			for _, p := range []string{alpha, beta} {
				putRecord(t, u, &store.Record{Version: store.RecordVersion, Profile: p, User: "u", Issuer: stack.Hydra.IssuerURL,
					ClientID: stack.Hydra.ClientID, Subject: "u", RefreshToken: secret.New("not-used"), UpdatedAt: time.Now()})
			}
			shimPath(t, u)
			c := startTTY(t, u.environ(), sh.argv...)
			c.typeLine(sh.prompt + "; " + loads[sh.name])
			c.waitPrompt()
			if out := c.run("alilogin use compl-" + sh.name + "-b\t"); !strings.Contains(out, "current profile: "+beta) {
				t.Errorf("use compl-%s-b<Tab>: %q; screen:\n%s", sh.name, out, c.screen())
			}
			if out := c.run("alilogin status --short --profile compl-" + sh.name + "-a\t"); !strings.Contains(out, alpha+" ") {
				t.Errorf("--profile compl-%s-a<Tab>: %q; screen:\n%s", sh.name, out, c.screen())
			}
		})
	}
}
