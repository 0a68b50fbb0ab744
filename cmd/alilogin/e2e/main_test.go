package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/config/check"
	"github.com/alisw/alilogin/internal/errprefix"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

var (
	stack *teststack.Stack
	bin   string // the alilogin binary
	// brokerBin is the broker binary (direct_test.go: the direct login's
	// auth methods are made by its apply; elevate_test.go: the attended
	// tier).
	brokerBin string
)

func TestMain(m *testing.M) {
	code := teststack.MainWithBinaries(m, teststack.Options{}, &stack, []string{teststack.AliloginPkg, teststack.BrokerPkg}, &bin, &brokerBin)
	if attended.tmp != "" {
		os.RemoveAll(attended.tmp)
	}
	os.Exit(code)
}

// user is a test home: its own HOME/XDG dirs and environment.
type user struct {
	home string
	env  map[string]string
}

// newUser returns an environment that points alilogin at the stack and at
// a fresh home, with the test keyring, no display.
func newUser(t *testing.T) *user {
	t.Helper()
	home := t.TempDir()
	u := &user{home: home, env: map[string]string{
		"HOME":               home,
		"XDG_CONFIG_HOME":    filepath.Join(home, ".config"),
		"XDG_STATE_HOME":     filepath.Join(home, ".local", "state"),
		"PATH":               os.Getenv("PATH"),
		"VAULT_ADDR":         stack.Vault.Addr,
		"NOMAD_ADDR":         stack.Nomad.Addr,
		"CONSUL_HTTP_ADDR":   strings.TrimPrefix(stack.Consul.Addr, "http://"),
		"ALILOGIN_ISSUER":    stack.Hydra.IssuerURL,
		"ALILOGIN_CLIENT_ID": stack.Hydra.ClientID,
	}}
	for _, kv := range stack.Keyring.Env() {
		k, v, _ := strings.Cut(kv, "=")
		u.env[k] = v
	}
	return u
}

func (u *user) getenv(k string) string { return u.env[k] }

// bound sets r's server binding to the servers u is configured with now,
// as `alilogin login` records them, and returns r.
func (u *user) bound(t *testing.T, r *store.Record) *store.Record {
	t.Helper()
	canon := func(addr string) string {
		if addr == "" {
			return ""
		}
		if !strings.Contains(addr, "://") {
			addr = "http://" + addr // CONSUL_HTTP_ADDR
		}
		c, err := check.Canonical(addr)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	r.VaultAddr, r.NomadAddr, r.ConsulAddr = canon(u.env["VAULT_ADDR"]), canon(u.env["NOMAD_ADDR"]), canon(u.env["CONSUL_HTTP_ADDR"])
	return r
}

// deleteAtEnd opens u's store and deletes profile's record from it when
// the test ends; it returns the store.
func (u *user) deleteAtEnd(t *testing.T, profile string) store.Store {
	t.Helper()
	st, _ := store.Open("", u.getenv, nil)
	t.Cleanup(func() { _ = st.Delete(profile) })
	return st
}

func (u *user) environ() []string {
	var l []string
	for k, v := range u.env {
		l = append(l, k+"="+v)
	}
	return l
}

// writeConfig writes the user's config file.
func (u *user) writeConfig(t *testing.T, hcl string) {
	t.Helper()
	dir := filepath.Join(u.env["XDG_CONFIG_HOME"], "alilogin")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.hcl"), []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
}

// proc is a running alilogin.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr *teststack.SyncBuffer
	done           chan struct{}
	err            error
}

func (u *user) start(t *testing.T, args ...string) *proc {
	t.Helper()
	return u.startBin(t, bin, args...)
}

// startBin starts the alilogin binary at path (a copy of bin).
func (u *user) startBin(t *testing.T, path string, args ...string) *proc {
	t.Helper()
	p := &proc{stdout: &teststack.SyncBuffer{}, stderr: &teststack.SyncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Env = u.environ()
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		// No message repeats its own prefix ("could not renew the Vault
		// token: could not renew the Vault token: ..."), in whatever
		// failure a test provokes.
		if r, ok := errprefix.Repeated(p.stderr.String()); ok {
			t.Errorf("alilogin %s: a message repeats its own prefix (%s); stderr:\n%s", strings.Join(args, " "), r, p.stderr.String())
		}
	})
	return p
}

// run runs alilogin to the end.
func (u *user) run(t *testing.T, args ...string) *proc {
	t.Helper()
	p := u.start(t, args...)
	if _, err := p.wait(2 * time.Minute); err != nil {
		t.Fatal(err)
	}
	return p
}

// wait returns the exit code.
func (p *proc) wait(d time.Duration) (int, error) {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), nil
	case <-time.After(d):
		p.cmd.Process.Kill()
		<-p.done
		return -1, fmt.Errorf("alilogin did not finish in %s; stderr:\n%s", d, p.stderr.String())
	}
}

func (p *proc) code() int { <-p.done; return p.cmd.ProcessState.ExitCode() }

var urlLine = regexp.MustCompile(`(?m)^  (https?://\S+)$`)

// waitLine waits until stderr has a line matching re and returns its
// first group.
func (p *proc) waitLine(t *testing.T, re *regexp.Regexp, d time.Duration) string {
	t.Helper()
	var m []string
	ended := false
	testutil.EventuallyEvery(d, 20*time.Millisecond, func() bool {
		if m = re.FindStringSubmatch(p.stderr.String()); m != nil {
			return true
		}
		select {
		case <-p.done:
			ended = true
		default:
		}
		return ended
	})
	switch {
	case m != nil:
		return m[1]
	case ended:
		t.Fatalf("alilogin ended (%v) before printing %s; stderr:\n%s", p.err, re, p.stderr.String())
	}
	t.Fatalf("alilogin printed no %s in %s; stderr:\n%s", re, d, p.stderr.String())
	return ""
}

// signIn drives a fresh headless Chromium through the login at the URL
// alilogin printed and returns the text of the page it ends on.
func signIn(t *testing.T, ctx context.Context, p *proc, username, password string) string {
	t.Helper()
	return signInAt(t, ctx, p.waitLine(t, urlLine, time.Minute), username, password, p.stderr.String)
}

// signInAt drives a fresh headless Chromium through the login at authURL
// and returns the text of the page it ends on; on failure it shows what
// alilogin has written so far (its stderr, the terminal).
func signInAt(t *testing.T, ctx context.Context, authURL, username, password string, written func() string) string {
	t.Helper()
	b, err := teststack.NewBrowser()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	text, err := b.Login(ctx, authURL, username, password, u.Query().Get("redirect_uri"))
	if err != nil {
		t.Fatalf("browser login: %v\nalilogin wrote:\n%s", err, written())
	}
	return text
}

// openLoginPage opens the sign-in page alilogin p printed in a new
// browser, closed when t ends, and returns the browser.
func openLoginPage(t *testing.T, ctx context.Context, p *proc) *teststack.Browser {
	t.Helper()
	authURL := p.waitLine(t, urlLine, time.Minute)
	b, err := teststack.NewBrowser()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	if err := b.Open(ctx, authURL); err != nil {
		t.Fatal(err)
	}
	return b
}

// lines is a helper for messages.
func lines(s string) []string {
	var l []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		l = append(l, sc.Text())
	}
	return l
}

// requireTool finds a program the tests need and CI installs (bash, zsh,
// fish, script(1): make deps). Missing with CI=true, the test fails: no
// end-to-end test is skipped in CI. Elsewhere it is skipped, with the hint.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	switch {
	case err == nil:
		return path
	case os.Getenv("CI") == "true":
		t.Fatalf("%s is not installed, and CI must run this test: install it (make deps)", name)
	default:
		t.Skipf("%s not installed (make deps installs it; in CI, with CI=true, this fails)", name)
	}
	return ""
}
