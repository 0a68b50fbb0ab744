package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/discovery"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

var authURLLine = regexp.MustCompile(`(?m)^\s+(https?://\S+/oauth2/auth\S*)$`)

// TestDiscoverySetupLogin: a new user with only the broker URL runs
// `alilogin setup --broker URL`, then `alilogin login`, and gets working
// Vault, Nomad and Consul tokens. Nothing else is configured: no
// VAULT_ADDR, no issuer, no client id.
func TestDiscoverySetupLogin(t *testing.T) {
	setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := policiesDir(t, map[string]string{})
	b := startBroker(t, "discovery", dir, nil, "--interval", "1m", "--lock-key", "test/discovery",
		"--public-vault-addr", stack.Vault.Addr)
	testutil.WaitFor(t, time.Minute, "the broker to be ready", func() bool { c, _ := b.status(); return c == 200 })

	code, body, err := b.get(discovery.Path)
	must(t, err)
	doc, err := discovery.Parse([]byte(body))
	if code != 200 || err != nil {
		t.Fatalf("discovery: %d %v %s", code, err, body)
	}
	if doc.Vault.Addr != stack.Vault.Addr || doc.SSO.ClientID != stack.Hydra.ClientID || doc.Nomad.Addr != stack.Nomad.Addr {
		t.Fatalf("discovery document: %+v", doc)
	}
	for _, s := range []string{stack.Vault.RootToken, stack.Nomad.ManagementToken, stack.Consul.ManagementToken} {
		if strings.Contains(body, s) {
			t.Fatal("a token in the discovery document")
		}
	}

	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".state"), "PATH=" + os.Getenv("PATH")}
	run := func(args ...string) (string, string, int) {
		cmd := exec.CommandContext(ctx, aliloginBin, args...)
		cmd.Env = env
		var out, errb teststack.SyncBuffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if err != nil {
			code = cmd.ProcessState.ExitCode()
		}
		return out.String(), errb.String(), code
	}
	out, errOut, code := run("setup", "--broker", b.url)
	if code != 0 {
		t.Fatalf("setup: exit %d\n%s", code, errOut)
	}
	for _, p := range []string{"ci-user", "ci-admin", "build-operator", "alice-ci-users"} {
		if !strings.Contains(out, p) {
			t.Errorf("setup's profile list lacks %q:\n%s", p, out)
		}
	}
	t.Logf("alilogin setup:\n%s%s", out, errOut)
	cfg, err := os.ReadFile(filepath.Join(home, ".config", "alilogin", "config.hcl"))
	must(t, err)
	if !strings.Contains(string(cfg), b.url) {
		t.Fatalf("config file:\n%s", cfg)
	}

	// Login with the browser, as a user of alice-ci-users.
	stack.Hydra.AddUser(teststack.User{Username: "setupuser", Password: "setupuser-pw", UPN: "setupuser",
		Roles: []string{"alice-ci-users"}, Name: "Setup User", Email: "setupuser@example.cern"})
	cmd := exec.CommandContext(ctx, aliloginBin, "login", "--no-browser", "--listen", "127.0.0.1:0", "--json")
	cmd.Env = env
	var lout, lerr teststack.SyncBuffer
	cmd.Stdout, cmd.Stderr = &lout, &lerr
	must(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var authURL string
	testutil.WaitFor(t, time.Minute, "the sign-in URL", func() bool {
		if m := authURLLine.FindStringSubmatch(lerr.String()); m != nil {
			authURL = m[1]
			return true
		}
		return false
	})
	u, err := url.Parse(authURL)
	must(t, err)
	br, err := teststack.NewBrowser()
	must(t, err)
	defer br.Close()
	if _, err := br.Login(ctx, authURL, "setupuser", "setupuser-pw", u.Query().Get("redirect_uri")); err != nil {
		t.Fatalf("browser: %v\nalilogin stderr:\n%s", err, lerr.String())
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("login: %v\nstderr:\n%s", err, lerr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("login did not end; stderr:\n%s", lerr.String())
	}
	var sum struct {
		Profile string `json:"profile"`
		Tokens  map[string]struct {
			Policies []string `json:"policies"`
		} `json:"tokens"`
	}
	if err := json.Unmarshal([]byte(lout.String()), &sum); err != nil {
		t.Fatalf("login --json: %v\n%s\nstderr:\n%s", err, lout.String(), lerr.String())
	}
	if sum.Profile != "ci-user" || len(sum.Tokens) != 3 {
		t.Fatalf("login summary: %+v\nstderr:\n%s", sum, lerr.String())
	}
	if !slices.Contains(sum.Tokens["nomad"].Policies, "ci-read-jobs") {
		t.Errorf("nomad token policies: %v", sum.Tokens["nomad"].Policies)
	}
	// And the token works, still with no other configuration.
	tok, errOut, code := run("token", "--for", "nomad")
	if code != 0 || strings.TrimSpace(tok) == "" {
		t.Fatalf("token --for nomad: exit %d: %s", code, errOut)
	}
}
