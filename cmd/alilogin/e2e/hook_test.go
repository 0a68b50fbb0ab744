package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

// tty is an interactive shell in a real terminal: a tmux session on a
// private server socket.
type tty struct {
	t    *testing.T
	tmux string
	sock string
	pid  int // the shell
	mark int
}

func (c *tty) tmuxCmd(args ...string) string {
	c.t.Helper()
	out, err := exec.Command(c.tmux, append([]string{"-S", c.sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		c.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// startTTY starts argv (the shell) under tmux with exactly env.
func startTTY(t *testing.T, env []string, argv ...string) *tty {
	t.Helper()
	c := &tty{t: t, tmux: requireTool(t, "tmux"), sock: filepath.Join(t.TempDir(), "tmux.sock")}
	args := append([]string{"new-session", "-d", "-x", "250", "-y", "50", "env", "-i"}, env...)
	c.tmuxCmd(append(args, argv...)...)
	pid, err := strconv.Atoi(strings.TrimSpace(c.tmuxCmd("display-message", "-p", "#{pane_pid}")))
	if err != nil {
		t.Fatal(err)
	}
	c.pid = pid
	// Before the home goes: the server and the shell end, and the shell
	// has written its history (it is a zombie or gone once it did).
	t.Cleanup(func() {
		_ = exec.Command(c.tmux, "-S", c.sock, "kill-server").Run()
		ended := testutil.Eventually(10*time.Second, func() bool {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			return err != nil || strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))[0] == "Z"
		})
		if !ended {
			t.Errorf("the shell %d did not end after tmux kill-server", pid)
		}
	})
	return c
}

// screen is everything the terminal showed, wrapped lines joined.
func (c *tty) screen() string { return c.tmuxCmd("capture-pane", "-p", "-J", "-S", "-") }

// typeLine types line and Enter.
func (c *tty) typeLine(line string) {
	c.tmuxCmd("send-keys", "-t", "0", "-l", line)
	c.tmuxCmd("send-keys", "-t", "0", "Enter")
}

// run types cmd; echo a marker, and waits for the marker's output line;
// it returns the output between the command line and the marker.
func (c *tty) run(cmd string) string {
	c.t.Helper()
	// Typed before the prompt is drawn (while the hook still runs), the
	// line would be echoed by the terminal and then again by the shell.
	c.waitPrompt()
	c.mark++
	mark := fmt.Sprintf("MARK%dEND", c.mark)
	c.typeLine(cmd + "; echo " + mark)
	re := regexp.MustCompile(`(?ms)echo ` + mark + `\n(.*?)^` + mark + `$`)
	m, ok := c.match(re)
	if !ok {
		c.t.Fatalf("no %s on the terminal in a minute; screen:\n%s", mark, c.screen())
	}
	return m
}

// match waits up to a minute for the screen to match re and returns its
// first group; each look at the screen is a tmux process.
func (c *tty) match(re *regexp.Regexp) (string, bool) {
	var m []string
	ok := testutil.EventuallyEvery(time.Minute, 50*time.Millisecond, func() bool {
		m = re.FindStringSubmatch(c.screen())
		return m != nil
	})
	if !ok {
		return "", false
	}
	return m[1], true
}

// waitPrompt waits until the last line of the screen is the prompt.
func (c *tty) waitPrompt() {
	c.t.Helper()
	prompt := testutil.EventuallyEvery(time.Minute, 50*time.Millisecond, func() bool {
		return strings.HasSuffix(strings.TrimRight(c.screen(), "\n "), "PROMPT>")
	})
	if !prompt {
		c.t.Fatalf("no prompt in a minute; screen:\n%s", c.screen())
	}
}

// childFaults is the shell's cminflt (/proc/<pid>/stat field 11): the
// page faults of every child it has waited for. Any process the shell
// starts (a fork, a command substitution, an external program) makes it
// grow; shell builtins leave it as it is.
func childFaults(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	n, err := strconv.ParseInt(f[8], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestShellHook: `alilogin hook` in bash, zsh and fish, each in a real
// terminal (tmux) on the stack: "login needed" said once; the tokens
// appear without any action; while they are far from expiry the prompt
// starts no process (neither alilogin, counted by a PATH shim, nor any
// other, counted by the shell's child page faults); after the tokens
// expired, the next prompt renews them and a plain `nomad acl token self`
// works.
func TestShellHook(t *testing.T) {
	shells := []struct {
		name    string
		argv    []string
		setup   string // prompt and hook
		retry   string // makes the hook look again at the next prompt
		showVar string // prints $NAME
	}{
		{"bash", []string{"bash", "--norc", "--noprofile", "-i"}, `PS1='PROMPT> '; eval "$(alilogin hook bash --min-ttl 15s)"`, `__alilogin_next=0`, `echo "V=$%s"`},
		{"zsh", []string{"zsh", "-f", "-i"}, `PS1='PROMPT> '; eval "$(alilogin hook zsh --min-ttl 15s)"`, `__alilogin_next=0`, `echo "V=$%s"`},
		{"fish", []string{"fish", "--no-config", "-i"}, `function fish_prompt; echo -n 'PROMPT> '; end; set -g fish_greeting; alilogin hook fish --min-ttl 15s | source`,
			`set -g __alilogin_next 0; set -g __alilogin_next_uptime 0`, `echo "V=$%s"`},
	}
	// The three shells run at once, their waits for the tokens' expiry
	// overlapping (the stack's Hydra takes their refreshes one at a time).
	if err := stack.EnsureMounts(context.Background(), nil, teststack.Mounts{}); err != nil {
		t.Fatal(err)
	}
	for _, sh := range shells {
		t.Run(sh.name, func(t *testing.T) {
			t.Parallel()
			requireTool(t, sh.name)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			roles := "hook-" + sh.name
			u, profile, c, calls := hookShell(t, ctx, roles, "30s", sh.setup, sh.argv...)

			// Not logged in yet: said once, also when the hook looks again.
			c.run("true")
			c.run(sh.retry)
			c.run("true")
			if n := strings.Count(c.screen(), "not logged in for profile "+profile); n != 1 {
				t.Errorf("the login-needed line appears %d times, want once; screen:\n%s", n, c.screen())
			}
			if n := calls(); n < 3 { // the snippet's own `alilogin hook` and two refreshes
				t.Errorf("alilogin ran %d times, want the hook to have looked twice", n)
			}

			// A login happens elsewhere; the hook picks it up.
			seed(t, ctx, u, profile, roles)
			// As `alilogin login` would: every token the profile grants.
			u.ok(t, "env", "--for", "vault,nomad,consul")
			c.run(sh.retry)
			first := strings.TrimSpace(c.run(fmt.Sprintf(sh.showVar, "NOMAD_TOKEN")))
			if first == "V=" || !strings.HasPrefix(first, "V=") {
				t.Fatalf("NOMAD_TOKEN after the hook: %q; screen:\n%s", first, c.screen())
			}
			expLine := strings.TrimSpace(c.run(fmt.Sprintf(sh.showVar, "ALILOGIN_TOKEN_EXPIRY")))
			exp, err := time.Parse(time.RFC3339, strings.TrimPrefix(expLine, "V="))
			if err != nil {
				t.Fatalf("ALILOGIN_TOKEN_EXPIRY: %q", expLine)
			}

			// Far from expiry: prompts start nothing at all.
			n0, f0 := calls(), childFaults(t, c.pid)
			for range 5 {
				c.run("true")
			}
			if n, f := calls(), childFaults(t, c.pid); n != n0 || f != f0 {
				t.Errorf("5 prompts with fresh tokens started alilogin %d times and children with %d page faults; want none", n-n0, f-f0)
			}
			if left := time.Until(exp); left < 15*time.Second {
				t.Fatalf("the prompts ran after the renewal moment (tokens valid for %s only): nothing proved", left)
			}

			// Wait for the tokens to expire (the event is the clock).
			time.Sleep(time.Until(exp) + time.Second)
			old := stack.Nomad.Client().WithToken(secret.New(strings.TrimPrefix(first, "V=")))
			if !testutil.Eventually(15*time.Second, func() bool { return old.Do(ctx, "GET", "/v1/acl/token/self", nil, nil) != nil }) {
				t.Fatalf("the first Nomad token still works after its expiry: nothing to renew")
			}
			c.run("true") // a prompt: the hook renews
			out := c.run("nomad acl token self >/dev/null && echo NOMAD-OK")
			if !strings.Contains(out, "NOMAD-OK") {
				t.Fatalf("nomad acl token self after expiry: %q; screen:\n%s", out, c.screen())
			}
			second := strings.TrimSpace(c.run(fmt.Sprintf(sh.showVar, "NOMAD_TOKEN")))
			if second == first {
				t.Errorf("NOMAD_TOKEN is the expired one")
			}
		})
	}
}

// waitFor waits until the screen matches re and returns its first group.
func (c *tty) waitFor(re *regexp.Regexp) string {
	c.t.Helper()
	m, ok := c.match(re)
	if !ok {
		c.t.Fatalf("no %s on the terminal in a minute; screen:\n%s", re, c.screen())
	}
	return m
}

// TestShellHookFollowsLoginsElsewhere: in bash, zsh and fish under tmux,
// with tokens far from expiry (a 1h profile, so the clock never makes
// the hook refresh), the next prompt after a login in another terminal
// has the new tokens (the old ones are revoked: `nomad acl token self`
// works with the new one), and the next prompt after a logout in another
// terminal has no token variable left; while nothing changes, prompts
// start no process (the generation file is read with the shell's `read`
// builtin).
func TestShellHookFollowsLoginsElsewhere(t *testing.T) {
	shells := []struct {
		name  string
		argv  []string
		setup string
	}{
		{"bash", []string{"bash", "--norc", "--noprofile", "-i"}, `PS1='PROMPT> '; eval "$(alilogin hook bash)"`},
		{"zsh", []string{"zsh", "-f", "-i"}, `PS1='PROMPT> '; eval "$(alilogin hook zsh)"`},
		{"fish", []string{"fish", "--no-config", "-i"}, `function fish_prompt; echo -n 'PROMPT> '; end; set -g fish_greeting; alilogin hook fish | source`},
	}
	if err := stack.EnsureMounts(context.Background(), nil, teststack.Mounts{}); err != nil {
		t.Fatal(err)
	}
	for _, sh := range shells {
		t.Run(sh.name, func(t *testing.T) {
			requireTool(t, sh.name)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			roles := "hookelsewhere-" + sh.name
			u, profile, c, calls := hookShell(t, ctx, roles, "1h", sh.setup, sh.argv...)
			show := func(name string) string {
				t.Helper()
				return strings.TrimPrefix(strings.TrimSpace(c.run(`echo "V=$`+name+`"`)), "V=")
			}
			prompts := func(what string, n int) {
				t.Helper()
				n0, f0 := calls(), childFaults(t, c.pid)
				for range n {
					c.run("true")
				}
				if n1, f1 := calls(), childFaults(t, c.pid); n1 != n0 || f1 != f0 {
					t.Errorf("%s: %d prompts started alilogin %d times and children with %d page faults; want none", what, n, n1-n0, f1-f0)
				}
			}
			c.run("true")
			if v := show("VAULT_TOKEN"); v != "" {
				t.Fatalf("VAULT_TOKEN before any login: %q", v)
			}

			// A first login elsewhere (as `alilogin login` stores it):
			// the next prompt has the tokens, not a minute later.
			seed(t, ctx, u, profile, roles)
			u.ok(t, "env", "--for", "vault,nomad,consul")
			c.run("true")
			first := show("NOMAD_TOKEN")
			if first == "" {
				t.Fatalf("no NOMAD_TOKEN at the prompt after a login elsewhere; screen:\n%s", c.screen())
			}
			prompts("after the first login", 5)

			// A real login in another terminal replaces (and revokes)
			// the shell's tokens: the next prompt has the new ones.
			name, pw := newUserAccount(roles)
			loginOK(t, ctx, u, name, pw, "login elsewhere", "--profile", profile)
			old := stack.Nomad.Client().WithToken(secret.New(first))
			if !testutil.Eventually(15*time.Second, func() bool { return old.Do(ctx, "GET", "/v1/acl/token/self", nil, nil) != nil }) {
				t.Fatalf("the shell's Nomad token still works after the login elsewhere: nothing to pick up")
			}
			c.run("true") // the next prompt
			if out := c.run("nomad acl token self >/dev/null && echo NOMAD-OK"); !strings.Contains(out, "NOMAD-OK") {
				t.Fatalf("nomad acl token self after a login elsewhere: %q; screen:\n%s", out, c.screen())
			}
			if second := show("NOMAD_TOKEN"); second == first || second == "" {
				t.Errorf("NOMAD_TOKEN after a login elsewhere is the revoked one (or none)")
			}
			prompts("after the login elsewhere", 3)

			// A logout in another terminal: the next prompt has no token.
			u.ok(t, "logout", "--profile", profile)
			c.run("true")
			for _, v := range []string{"VAULT_TOKEN", "NOMAD_TOKEN", "CONSUL_HTTP_TOKEN"} {
				if got := show(v); got != "" {
					t.Errorf("%s still set at the prompt after a logout elsewhere", v)
				}
			}
		})
	}
}

// countAlilogin puts a shim before alilogin on u's PATH (and the
// servers' CLIs after it) and returns the number of alilogin processes
// started through it so far.
func countAlilogin(t *testing.T, u *user) func() int {
	t.Helper()
	shim := filepath.Join(u.home, "shim")
	count := filepath.Join(u.home, "count")
	if err := os.MkdirAll(shim, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shim, "alilogin"), []byte("#!/bin/sh\necho x >>'"+count+"'\nexec '"+bin+"' \"$@\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	calls := func() int {
		b, _ := os.ReadFile(count)
		return strings.Count(string(b), "x")
	}
	u.env["PATH"] = shim + ":" + teststack.BinDir() + ":" + os.Getenv("PATH")
	return calls
}

// hookShell starts shell argv on a terminal (TERM set, no NOMAD_TOKEN)
// for a session user of a fresh profile of roles whose tokens live ttl,
// types setup (the prompt and the hook) and waits for the prompt. calls
// counts the alilogin processes started since (a shim counts them).
func hookShell(t *testing.T, ctx context.Context, roles, ttl, setup string, argv ...string) (u *user, profile string, c *tty, calls func() int) {
	t.Helper()
	profile = sessionProfile(t, ctx, ttl, teststack.Mounts{}, roles)
	u = sessionUser(t, profile, teststack.Mounts{})
	calls = countAlilogin(t, u)
	u.env["TERM"] = "xterm-256color"
	delete(u.env, "NOMAD_TOKEN")
	c = startTTY(t, u.environ(), argv...)
	c.typeLine(setup)
	c.waitPrompt()
	return u, profile, c, calls
}
