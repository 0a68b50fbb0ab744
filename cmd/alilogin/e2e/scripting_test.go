package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

// The shell examples of docs/scripting.md are run here: a fenced block
// preceded by the line `<!-- runnable: NAME -->` is run on the real stack
// (TestScriptingExamplesRun), checked against what docRuns[NAME] says the
// doc promises of it; every block, runnable or not, is checked for
// syntax by the shell or format its fence names
// (TestScriptingExamplesParse). docs/development.md describes the marker.

const scriptingDoc = "../../../docs/scripting.md"

// docRun is one run of a runnable example and what the doc promises of
// it.
type docRun struct {
	what     string
	loggedIn bool // as a user logged in to profile ci; else one with no login
	// inExec: run inside `alilogin exec --profile ci --` (the example
	// reads what exec exports).
	inExec bool
	after  string // shell code run after the example, in the same shell
	code   int
	stdout *regexp.Regexp // nil: anything
	stderr *regexp.Regexp
}

// nomadWorks is the check that the example left a working NOMAD_TOKEN
// in its shell.
const nomadWorks = "nomad job status"

var (
	noJobs     = regexp.MustCompile(`No running jobs`)
	promptLine = `printf '%s|' "$(alilogin_prompt)"`
)

// docRuns are the runs of each runnable example of docs/scripting.md.
var docRuns = map[string][]docRun{
	"script": {
		{what: "logged in, the token works", loggedIn: true, stdout: noJobs},
		{what: "no login: exit 4 and the hint", code: 4,
			stderr: regexp.MustCompile(`(?m)^alilogin session over: run 'alilogin login --profile ci'$`)},
	},
	"exec": { // ./deploy.sh (docFixtures) uses the three tokens and exits 7
		{what: "the three tokens, the exit code passed through", loggedIn: true, code: 7},
	},
	"prompt": {
		{what: "logged in", loggedIn: true, after: promptLine, stdout: regexp.MustCompile(`^\[alilogin\] \|$`)},
		{what: "no login", after: promptLine, stdout: regexp.MustCompile(`^\[alilogin: login\] \|$`)},
		{what: "inside exec", loggedIn: true, inExec: true, after: promptLine, stdout: regexp.MustCompile(`^\[ci\] \|$`)},
	},
	"countdown": {
		{what: "inside exec", loggedIn: true, inExec: true, stdout: regexp.MustCompile(`^[1-9][0-9]* min left\n$`)},
	},
	"envrc":     {{what: "the token works", loggedIn: true, after: nomadWorks, stdout: noJobs}},
	"eval":      {{what: "the token works", loggedIn: true, after: nomadWorks, stdout: noJobs}},
	"eval-fish": {{what: "the token works", loggedIn: true, after: nomadWorks, stdout: noJobs}},
}

// docFixtures are the files the examples expect in their directory.
var docFixtures = map[string]string{
	"deploy.sh": "#!/bin/sh\nnomad job status >/dev/null && consul acl token read -self >/dev/null && vault token lookup >/dev/null || exit 1\nexit 7\n",
}

// shellOf is the shell that runs a block of lang.
var shellOf = map[string]string{"sh": "sh", "bash": "bash", "zsh": "zsh", "fish": "fish"}

// TestScriptingExamplesRun: each example of docs/scripting.md marked
// runnable runs as written, with alilogin and the vault, nomad and consul
// CLIs on PATH and the stack's servers configured, and does what the doc
// says of it: the script exits 4 with its hint when a login is needed
// (the one that read `rc=$?` inside `if !` exited 0), and 0 with a
// working token when logged in; exec passes three working tokens and the
// exit code; the prompt function, the countdown, .envrc and the evals
// (sh and fish) work. Every runnable example has its runs here, and every
// run its example in the doc.
func TestScriptingExamplesRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := stack.SetupProfile(ctx, nil, teststack.ProfileSpec{Name: "ci", Roles: []string{"docs-ci-users"}, NomadRules: readJobs, ConsulRules: readKV}); err != nil {
		t.Fatal(err)
	}
	in, out := docUser(t), docUser(t)
	seedFile(t, ctx, in, "ci", "docs-ci-users")
	// The three tokens a login gets, from the refresh token.
	if p := in.run(t, "env", "--profile", "ci", "--for", "vault,nomad,consul"); p.code() != 0 {
		t.Fatalf("env: exit %d\n%s", p.code(), p.stderr.String())
	}

	blocks := map[string]testutil.Block{}
	for _, b := range testutil.FencedBlocks(t, scriptingDoc) {
		if b.Name == "" {
			continue
		}
		if _, dup := blocks[b.Name]; dup {
			t.Errorf("scripting.md:%d: a second runnable example named %s", b.Line, b.Name)
		}
		blocks[b.Name] = b
		if _, ok := docRuns[b.Name]; !ok {
			t.Errorf("scripting.md:%d: runnable example %s has no runs in docRuns", b.Line, b.Name)
		}
	}
	for name, runs := range docRuns {
		b, ok := blocks[name]
		if !ok {
			t.Errorf("docRuns[%s]: no runnable example of that name in scripting.md", name)
			continue
		}
		shell, ok := shellOf[b.Lang]
		if !ok {
			t.Errorf("scripting.md:%d: runnable example %s is a %q block, which no shell runs", b.Line, name, b.Lang)
			continue
		}
		for _, r := range runs {
			t.Run(name+"/"+r.what, func(t *testing.T) {
				u := out
				if r.loggedIn {
					u = in
				}
				dir := t.TempDir()
				for f, text := range docFixtures {
					if err := os.WriteFile(filepath.Join(dir, f), []byte(text), 0o755); err != nil {
						t.Fatal(err)
					}
				}
				script := filepath.Join(dir, "example")
				if err := os.WriteFile(script, []byte(b.Text+r.after+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				argv := []string{requireTool(t, shell), script}
				if r.inExec {
					argv = append([]string{bin, "exec", "--profile", "ci", "--"}, argv...)
				}
				cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
				cmd.Dir, cmd.Env = dir, u.environ()
				var stdout, stderr strings.Builder
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				code := 0
				if err := cmd.Run(); err != nil {
					ee, ok := err.(*exec.ExitError)
					if !ok {
						t.Fatal(err)
					}
					code = ee.ExitCode()
				}
				said := "stdout:\n" + stdout.String() + "stderr:\n" + stderr.String()
				if code != r.code {
					t.Errorf("scripting.md:%d (%s): exit %d, want %d\n%s", b.Line, name, code, r.code, said)
				}
				if r.stdout != nil && !r.stdout.MatchString(stdout.String()) {
					t.Errorf("scripting.md:%d (%s): stdout does not match %s\n%s", b.Line, name, r.stdout, said)
				}
				if r.stderr != nil && !r.stderr.MatchString(stderr.String()) {
					t.Errorf("scripting.md:%d (%s): stderr does not match %s\n%s", b.Line, name, r.stderr, said)
				}
			})
		}
	}
}

// docUser is a user of the examples: the stack's servers configured, the
// file store in a home of its own, no profile chosen (the examples
// choose), and alilogin and the servers' CLIs on PATH.
func docUser(t *testing.T) *user {
	t.Helper()
	u := newUser(t)
	u.env["ALILOGIN_STORE"] = "file"
	run := filepath.Join(u.home, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	u.env["XDG_RUNTIME_DIR"] = run
	path := []string{filepath.Dir(bin)}
	for _, name := range []string{"vault", "nomad", "consul"} {
		if d := filepath.Dir(binPath(t, name)); !slices.Contains(path, d) {
			path = append(path, d)
		}
	}
	u.env["PATH"] = strings.Join(append(path, os.Getenv("PATH")), string(os.PathListSeparator))
	return u
}

// seedFile signs a new SSO user with roles in over plain HTTP and stores,
// in u's file store, a login of profile that holds only the refresh
// token (alilogin's chain then logs in to Vault by itself).
func seedFile(t *testing.T, ctx context.Context, u *user, profile string, roles ...string) {
	t.Helper()
	name, pw := newUserAccount(roles...)
	tok := hydraLogin(t, ctx, name, pw)
	st, err := store.Open("file", u.getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(u.bound(t, &store.Record{Version: store.RecordVersion, Profile: profile, User: name, Issuer: stack.Hydra.IssuerURL,
		ClientID: stack.Hydra.ClientID, Subject: name, RefreshToken: secret.New(tok.RefreshToken), UpdatedAt: time.Now()})); err != nil {
		t.Fatal(err)
	}
}

// TestScriptingExamplesParse: every fenced block of docs/scripting.md
// parses in the shell or format its fence names: sh blocks in sh (dash),
// bash and zsh (they are written for all three), bash and fish blocks in
// theirs, the commands of cron lines, of a CI job's script and of a
// starship module in sh. A block of any other kind fails the test, so
// that none goes unchecked.
func TestScriptingExamplesParse(t *testing.T) {
	blocks := testutil.FencedBlocks(t, scriptingDoc)
	if len(blocks) == 0 {
		t.Fatal("no fenced block in scripting.md")
	}
	cronLine := regexp.MustCompile(`^\s*(\S+\s+){5}(.*)$`)
	yamlScript := regexp.MustCompile(`^\s*-\s+(.*)$`)
	tomlCommand := regexp.MustCompile(`^command\s*=\s*"((?:[^"\\]|\\.)*)"\s*$`)
	for _, b := range blocks {
		var checks []struct{ shell, text string }
		add := func(shell, text string) { checks = append(checks, struct{ shell, text string }{shell, text}) }
		switch b.Lang {
		case "sh":
			add("sh", b.Text)
			add("bash", b.Text)
			add("zsh", b.Text)
		case "bash", "zsh", "fish":
			add(b.Lang, b.Text)
		case "cron":
			for _, l := range strings.Split(b.Text, "\n") {
				if m := cronLine.FindStringSubmatch(l); m != nil && !strings.HasPrefix(strings.TrimSpace(l), "#") {
					add("sh", m[2])
				}
			}
		case "yaml":
			for _, l := range strings.Split(b.Text, "\n") {
				if m := yamlScript.FindStringSubmatch(l); m != nil {
					add("sh", m[1])
				}
			}
		case "toml":
			for _, l := range strings.Split(b.Text, "\n") {
				if m := tomlCommand.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
					add("sh", strings.ReplaceAll(m[1], `\"`, `"`))
				}
			}
		default:
			t.Errorf("scripting.md:%d: a %q block, which this test cannot check: add a check for it", b.Line, b.Lang)
			continue
		}
		if len(checks) == 0 {
			t.Errorf("scripting.md:%d: a %s block with no command found to check", b.Line, b.Lang)
		}
		for _, c := range checks {
			cmd := exec.Command(requireTool(t, c.shell), "-n")
			cmd.Stdin = strings.NewReader(c.text)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("scripting.md:%d: %s -n: %v\n%s\n--- the %s block:\n%s", b.Line, c.shell, err, out, b.Lang, c.text)
			}
		}
	}
}
