package newuser

import (
	"bufio"
	"context"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

var (
	stack          *teststack.Stack
	alilogin, brok string // the binaries
)

func TestMain(m *testing.M) {
	os.Exit(teststack.MainWithBinaries(m, teststack.Options{}, &stack,
		[]string{teststack.AliloginPkg, teststack.BrokerPkg}, &alilogin, &brok))
}

const (
	repo   = "../../../.."
	readme = repo + "/README.md"
)

// readmeBlock returns the lines of README's fenced block marked
// runnable with name (the marker of docs/development.md: it runs as
// written on `make demo`'s stack).
func readmeBlock(t *testing.T, name string) []string {
	t.Helper()
	for _, b := range testutil.FencedBlocks(t, readme) {
		if b.Name == name {
			return strings.Split(strings.TrimSuffix(b.Text, "\n"), "\n")
		}
	}
	t.Fatalf("README.md has no block marked <!-- runnable: %s -->", name)
	return nil
}

// comment is a README line's trailing comment.
var comment = regexp.MustCompile(`\s+# .*$`)

var urlLine = regexp.MustCompile(`^  (https?://\S+)$`)

// TestNewUserWalkthrough: a new engineer with a clean home on `make
// demo`'s stack (the shipped policies/ applied by `broker apply`, the
// Nomad namespace ci, the kv/ mount) runs README.md's runnable commands
// for engineers, in order, as written: each exits 0, the sign-in is the
// real one (headless Chromium at the URL alilogin prints), and
// `alilogin exec -- nomad job status -namespace ci` works with the
// token of profile ci-user.
func TestNewUserWalkthrough(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// make demo's stack.
	pol := filepath.Join(t.TempDir(), "policies")
	if err := stack.CopyPolicies(pol, filepath.Join(repo, "policies"), false); err != nil {
		t.Fatal(err)
	}
	if err := stack.EnsureMounts(ctx, nil, teststack.Mounts{}); err != nil {
		t.Fatal(err)
	}
	apply := exec.CommandContext(ctx, brok, "apply", "--auto-approve", pol)
	apply.Env = append(os.Environ(), stack.Env()...)
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("broker apply: %v\n%s", err, out)
	}
	if err := stack.ALICEData(ctx); err != nil {
		t.Fatal(err)
	}
	stack.Hydra.AddUser(teststack.User{Username: "alice", Password: "alice", UPN: "alice", Roles: []string{"alice-ci-users"}, Name: "Alice Engineer", Email: "alice@example.cern"})

	// A new user: a clean home, the stack's addresses, no token.
	home := t.TempDir()
	run := filepath.Join(home, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"XDG_RUNTIME_DIR=" + run,
		"PATH=" + filepath.Dir(alilogin) + string(os.PathListSeparator) + teststack.BinDir() + string(os.PathListSeparator) + os.Getenv("PATH"),
		"VAULT_ADDR=" + stack.Vault.Addr, "NOMAD_ADDR=" + stack.Nomad.Addr, "CONSUL_HTTP_ADDR=" + stack.Consul.Addr,
		"ALILOGIN_ISSUER=" + stack.Hydra.IssuerURL, "ALILOGIN_CLIENT_ID=" + stack.Hydra.ClientID,
	}
	env = append(env, stack.Keyring.Env()...)
	// `alilogin ui` starts the agent: this test's own, stopped at its end
	// (the stack's leftover check fails a run that leaves a process).
	agentDir := filepath.Join(home, "agent")
	env = append(env, "ALILOGIN_AGENT_DIR="+agentDir)
	t.Cleanup(func() {
		stop := exec.Command(alilogin, "agent", "stop")
		stop.Env, stop.Dir = env, home
		if out, err := stop.CombinedOutput(); err != nil {
			t.Errorf("alilogin agent stop: %v\n%s", err, out)
		}
	})

	for _, line := range readmeBlock(t, "engineers") {
		cmdline := strings.TrimSpace(comment.ReplaceAllString(line, ""))
		if cmdline == "" {
			continue
		}
		c := exec.CommandContext(ctx, "sh", "-c", cmdline)
		c.Env, c.Dir = env, home
		var stdout, stderr strings.Builder
		c.Stdout = &stdout
		if strings.HasPrefix(cmdline, "alilogin login") {
			signInWith(t, ctx, c, &stderr)
		} else {
			c.Stderr = &stderr
			if err := c.Run(); err != nil {
				t.Errorf("README: %s: %v\nstdout:\n%s\nstderr:\n%s", cmdline, err, stdout.String(), stderr.String())
				continue
			}
		}
		t.Logf("$ %s\n%s%s", cmdline, stdout.String(), stderr.String())
		if strings.HasPrefix(cmdline, "alilogin status --short") && !strings.HasPrefix(stdout.String(), "ci-user ") {
			t.Errorf("status --short: %q, want the profile ci-user", stdout.String())
		}
	}
}

// signInWith runs the login c, signs alice in with headless Chromium at
// the URL it prints, and waits for it.
func signInWith(t *testing.T, ctx context.Context, c *exec.Cmd, stderr *strings.Builder) {
	t.Helper()
	pr, pw := io.Pipe()
	c.Stderr = pw
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	scanned := make(chan struct{}) // closed when stderr is read to its end
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if m := urlLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- c.Wait(); pw.Close() }()
	select {
	case authURL := <-urls:
		b, err := teststack.NewBrowser()
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		u, err := url.Parse(authURL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Login(ctx, authURL, "alice", "alice", u.Query().Get("redirect_uri")); err != nil {
			_ = c.Process.Kill()
			<-done
			<-scanned
			t.Fatalf("browser sign-in: %v\nalilogin stderr:\n%s", err, stderr.String())
		}
		err = <-done
		<-scanned
		if err != nil {
			t.Fatalf("README: %s: %v\nstderr:\n%s", strings.Join(c.Args[2:], " "), err, stderr.String())
		}
	case err := <-done:
		<-scanned
		t.Fatalf("README: %s ended before any sign-in URL: %v\nstderr:\n%s", strings.Join(c.Args[2:], " "), err, stderr.String())
	}
}
