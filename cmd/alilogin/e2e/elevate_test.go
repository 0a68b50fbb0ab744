package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/discovery"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/serve"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
)

// The attended tier on the real stack, as the broker makes it: the
// repository's policies/ with the stack's attended tier on profile
// ci-admin (teststack.AddAttended), written by `broker apply` (Vault's
// OIDC auth method with Hydra's confidential client, the tier's OIDC
// role, its nomad and consul roles and generated policy: cmd/broker/e2e
// TestApplyConfiguresAttendedTier), and the discovery document the broker
// renders from that folder (serve.Discovery), served to alilogin.

// attended is the broker folder once `broker apply` has written it to
// the stack (once per test binary: every elevate test uses the same tier;
// the OIDC mount stays for the next one). Its directory, with the client
// secret's file beside the folder, is removed by TestMain.
var attended struct {
	once sync.Once
	tmp  string
	cfg  *policy.Config
	err  error
}

// applyAttended runs `broker apply` on the repository's policies/ with
// the stack's attended tier and returns the loaded folder.
func applyAttended(t *testing.T) *policy.Config {
	t.Helper()
	attended.once.Do(func() {
		tmp, err := os.MkdirTemp("", "elev-broker")
		if err != nil {
			attended.err = err
			return
		}
		attended.tmp = tmp
		dir, secretFile := filepath.Join(tmp, "policies"), filepath.Join(tmp, "oidc-client-secret")
		if err := stack.CopyPolicies(dir, filepath.Join("..", "..", "..", "policies"), true); err != nil {
			attended.err = err
			return
		}
		if err := stack.AddAttended(dir, secretFile); err != nil {
			attended.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// The mounts the broker expects to exist (as an admin enables them).
		if err := stack.EnsureMounts(ctx, nil, teststack.Mounts{}); err != nil {
			attended.err = err
			return
		}
		cmd := exec.CommandContext(ctx, brokerBin, "apply", "--auto-approve", dir)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, stack.Env()...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			attended.err = fmt.Errorf("broker apply: %v\n%s", err, out.String())
			return
		}
		attended.cfg, attended.err = policy.Load(dir)
	})
	if attended.err != nil {
		t.Fatal(attended.err)
	}
	return attended.cfg
}

// elevUser is a user logged in (through the test's own Chromium, whose
// SSO session stays live) to the profile with the attended tier, with
// the real CLIs on PATH, an agent directory of its own and its Vault
// reached through a recorder of the attended sign-in's answers (to learn
// the privileged Vault token, which nothing else shows).
type elevUser struct {
	*user
	b         *teststack.Browser
	profile   string
	name, pw  string
	role      string // the tier's nomad and consul roles (the discovery document's)
	agentDir  string
	mu        sync.Mutex
	vaultToks []string // client_token of every oidc/callback answer
}

func newElevUser(t *testing.T, ctx context.Context) *elevUser {
	t.Helper()
	cfg := applyAttended(t)
	profile := teststack.AttendedProfile
	var roles []string
	for _, p := range cfg.Profiles {
		if p.Name == profile {
			roles = p.Roles
		}
	}
	if len(roles) == 0 {
		t.Fatalf("profile %s has no roles", profile)
	}
	name, pw := newUserAccount(roles[0])
	e := &elevUser{profile: profile, name: name, pw: pw}

	vp := httptest.NewServer(e.recorder(t))
	t.Cleanup(vp.Close)
	// The broker's document for this folder, with the recorder as the
	// public Vault address.
	doc := serve.Discovery(cfg, serve.Public{VaultAddr: vp.URL})
	for _, p := range doc.Profiles {
		if p.Name == profile && p.Attended != nil {
			e.role = p.Attended.NomadRole
		}
	}
	if e.role == "" {
		t.Fatalf("the discovery document has no attended tier with a nomad role for %s", profile)
	}
	docJSON, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	bs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != discovery.Path {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(docJSON)
	}))
	t.Cleanup(bs.Close)

	u := newUser(t)
	u.env["VAULT_ADDR"] = vp.URL
	u.env["PATH"] = teststack.BinDir() + string(os.PathListSeparator) + u.env["PATH"]
	u.env["ALILOGIN_BROKER"] = bs.URL
	dir := u.agentDir(t)
	e.user, e.agentDir = u, dir
	if e.b, err = teststack.NewBrowser(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.b.Close)
	p := u.start(t, "login", "--no-browser", "--listen", "127.0.0.1:0", "--profile", profile)
	authURL := p.waitLine(t, urlLine, time.Minute)
	lu, _ := url.Parse(authURL)
	if _, err := e.b.Login(ctx, authURL, name, pw, lu.Query().Get("redirect_uri")); err != nil {
		t.Fatalf("browser login: %v\n%s", err, p.stderr.String())
	}
	if code, err := p.wait(time.Minute); err != nil || code != 0 {
		t.Fatalf("login: exit %d %v\n%s", code, err, p.stderr.String())
	}
	t.Cleanup(func() { u.run(t, "agent", "stop") })
	return e
}

// recorder is a reverse proxy to the stack's Vault that notes the token
// of every answer of an OIDC callback.
func (e *elevUser) recorder(t *testing.T) http.Handler {
	target, _ := url.Parse(stack.Vault.Addr)
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target); pr.Out.Host = target.Host },
		ModifyResponse: func(resp *http.Response) error {
			if !strings.HasSuffix(resp.Request.URL.Path, "/oidc/callback") {
				return nil
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			resp.Body = io.NopCloser(bytes.NewReader(b))
			var out struct {
				Auth *struct {
					ClientToken string `json:"client_token"`
				} `json:"auth"`
			}
			if json.Unmarshal(b, &out) == nil && out.Auth != nil && out.Auth.ClientToken != "" {
				e.mu.Lock()
				e.vaultToks = append(e.vaultToks, out.Auth.ClientToken)
				e.mu.Unlock()
			}
			return nil
		},
	}
}

// elevate runs alilogin elevate with args; the test's Chromium, whose
// SSO session is live, opens the URL it prints: fill says whether the
// human signs in on the login page, which must be shown.
func (e *elevUser) elevate(t *testing.T, ctx context.Context, args ...string) *proc {
	t.Helper()
	p := e.start(t, append([]string{"elevate", "--no-browser", "--listen", "127.0.0.1:0", "--profile", e.profile}, args...)...)
	authURL := p.waitLine(t, urlLine, time.Minute)
	if !strings.Contains(authURL, "prompt=login") {
		t.Errorf("the sign-in URL lacks prompt=login: %s", authURL)
	}
	if err := e.b.Open(ctx, authURL); err != nil {
		t.Fatal(err)
	}
	// The login page, although the SSO session is live.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := e.b.WaitURL(wctx, stack.Hydra.AppURL+"/login"); err != nil {
		cur, _ := e.b.URL(ctx)
		t.Fatalf("Hydra did not show its login page for elevate (at %s): %v\n%s", cur, err, p.stderr.String())
	}
	if err := e.b.SubmitLogin(ctx, e.name, e.pw); err != nil {
		t.Fatal(err)
	}
	if _, err := p.wait(time.Minute); err != nil {
		t.Fatal(err)
	}
	return p
}

// elevated runs `exec --agent --elevated -- args...`; plain: `exec --agent`.
func (e *elevUser) exec(t *testing.T, elevated bool, args ...string) *proc {
	t.Helper()
	a := []string{"exec", "--agent", "--profile", e.profile}
	if elevated {
		a = append(a, "--elevated")
	}
	return e.run(t, append(append(a, "--"), args...)...)
}

// privileged are the tier's tokens, found at the servers with their root
// tokens: the Vault token the recorder saw, and the Nomad and Consul
// tokens Vault's engines made for the tier's role (by their names).
type privileged struct {
	vault                        string
	nomadSecret, nomadAccessor   string
	consulSecret, consulAccessor string
}

func (e *elevUser) privileged(t *testing.T, ctx context.Context) privileged {
	t.Helper()
	var p privileged
	e.mu.Lock()
	if len(e.vaultToks) > 0 {
		p.vault = e.vaultToks[len(e.vaultToks)-1]
	}
	e.mu.Unlock()
	p.nomadAccessor, p.nomadSecret = tokenOfRole(t, ctx, stack.Nomad.Client(), e.role)
	p.consulAccessor, p.consulSecret = tokenOfRole(t, ctx, stack.Consul.Client(), e.role)
	if p.vault == "" || p.nomadSecret == "" || p.consulSecret == "" {
		t.Fatalf("privileged tokens not found: vault %t, nomad %t, consul %t", p.vault != "", p.nomadSecret != "", p.consulSecret != "")
	}
	return p
}

// tokenOfRole finds, at Nomad or Consul (c, with its management token),
// the last listed token Vault's engine made for role (the role is in its
// Nomad name or Consul description) and returns its accessor and secret
// ("" when there is none).
func tokenOfRole(t *testing.T, ctx context.Context, c *apiclient.Client, role string) (accessor, secretID string) {
	t.Helper()
	var list []struct{ AccessorID, Name, Description string }
	if err := c.Do(ctx, "GET", "/v1/acl/tokens", nil, &list); err != nil {
		t.Fatal(err)
	}
	for _, x := range list {
		if strings.Contains(x.Name, role) || strings.Contains(x.Description, role) {
			var full struct{ SecretID string }
			if err := c.Do(ctx, "GET", "/v1/acl/token/"+x.AccessorID, nil, &full); err == nil {
				accessor, secretID = x.AccessorID, full.SecretID
			}
		}
	}
	return accessor, secretID
}

// dead reports whether each privileged token is gone at its server.
func (p privileged) dead(ctx context.Context) (vault, nomad, consul bool) {
	err := stack.Vault.Client().Do(ctx, "POST", "/v1/auth/token/lookup", map[string]string{"token": p.vault}, nil)
	vault = err != nil
	nomad = stack.Nomad.Client().Do(ctx, "GET", "/v1/acl/token/"+p.nomadAccessor, nil, nil) != nil
	consul = stack.Consul.Client().Do(ctx, "GET", "/v1/acl/token/"+p.consulAccessor, nil, nil) != nil
	return
}

// noPrivilegedAnywhere scans the keyring items, the user's home (state,
// config, runtime files), the agent's directory (its audit log) and the
// environment of every process of this uid for the privileged tokens.
func (e *elevUser) noPrivilegedAnywhere(t *testing.T, p privileged) {
	t.Helper()
	secrets := map[string]string{"Vault token": p.vault, "Nomad token": p.nomadSecret, "Consul token": p.consulSecret}
	check := func(where, text string) {
		for what, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("%s holds the privileged %s", where, what)
			}
		}
	}
	if l, err := store.NewKeyring(0, 0).List(); err == nil {
		for _, name := range l {
			if v, err := keyring.Get("alilogin", "profile:"+name); err == nil {
				check("keyring item profile:"+name, v)
			}
		}
	} else {
		t.Errorf("could not list the keyring: %v", err)
	}
	for _, root := range []string{e.home, e.agentDir} {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			if b, err := os.ReadFile(path); err == nil {
				check(path, string(b))
			}
			return nil
		})
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, f := range procs {
		if b, err := os.ReadFile(f); err == nil {
			check(f, string(b))
		}
	}
}

// TestElevateAsksForAFreshSignInAndEndsWithItsWindow: after an ordinary
// login, elevate makes Hydra show the login page again although the
// browser's SSO session is live; inside the window `nomad system gc`
// (management) and a job submission work through the agent's elevated
// gates while the ordinary gates stay read-only and the everyday routes
// work (the profile's reads: the ci namespace's jobs); status and status
// --short show the window; at the window's end the writes are refused,
// status --short shows no window, and the privileged Vault, Nomad and
// Consul tokens are dead at each server. No privileged token
// is in the keyring, the user's files, the agent's audit log or any
// process's environment.
func TestElevateAsksForAFreshSignInAndEndsWithItsWindow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := newElevUser(t, ctx)
	if p := e.exec(t, false, "nomad", "system", "gc"); p.code() == 0 || !strings.Contains(p.stderr.String(), "alilogin elevate --profile "+e.profile) {
		t.Fatalf("nomad system gc with the ordinary gate: exit %d\n%s", p.code(), p.stderr.String())
	}
	p := e.elevate(t, ctx, "--for", "40s")
	if p.code() != 0 || !strings.Contains(p.stderr.String(), "attended window of profile "+e.profile+" open") {
		t.Fatalf("elevate: exit %d\n%s", p.code(), p.stderr.String())
	}
	if p.stdout.String() != "" {
		t.Errorf("elevate wrote to stdout: %q", p.stdout.String())
	}
	if p := e.exec(t, true, "nomad", "system", "gc"); p.code() != 0 {
		t.Errorf("nomad system gc in the window: exit %d\n%s", p.code(), p.stderr.String())
	}
	job := writeTestFile(t, t.TempDir(), "elev.nomad.hcl", []byte(`job "elev-`+e.profile+`" {
  datacenters = ["dc1"]
  type = "batch"
  group "g" {
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
    }
  }
}
`))
	if p := e.exec(t, true, "nomad", "job", "run", "-detach", job); p.code() != 0 {
		t.Errorf("nomad job run in the window: exit %d\n%s", p.code(), p.stderr.String())
	}
	if p := e.exec(t, false, "nomad", "job", "status", "-namespace", "ci"); p.code() != 0 {
		t.Errorf("nomad job status with the ordinary gate during the window: exit %d\n%s", p.code(), p.stderr.String())
	}
	if p := e.exec(t, false, "nomad", "system", "gc"); p.code() == 0 {
		t.Error("the ordinary gate wrote during the window")
	}
	st := e.ok(t, "status", "--profile", e.profile)
	if !strings.Contains(st.stdout.String(), "attended window:") {
		t.Errorf("status shows no window:\n%s", st.stdout.String())
	}
	if sh := e.ok(t, "status", "--short", "--profile", e.profile); !strings.HasPrefix(sh.stdout.String(), e.profile+" ") || !strings.Contains(sh.stdout.String(), " elevated ") {
		t.Errorf("status --short shows no window: %q", sh.stdout.String())
	}
	for _, args := range [][]string{{"token", "--for", "nomad", "--elevated"}, {"env", "--elevated"}} {
		if p := e.run(t, args...); p.code() == 0 || !strings.Contains(p.stderr.String(), "stay in the alilogin agent") || p.stdout.String() != "" {
			t.Errorf("%v: exit %d, stdout %q\n%s", args, p.code(), p.stdout.String(), p.stderr.String())
		}
	}
	priv := e.privileged(t, ctx)
	e.noPrivilegedAnywhere(t, priv)

	if err := teststack.WaitUntil(ctx, "the privileged tokens' revocation at the window's end", func() bool {
		v, n, c := priv.dead(ctx)
		return v && n && c
	}); err != nil {
		v, n, c := priv.dead(ctx)
		t.Fatalf("%v: vault dead %t, nomad dead %t, consul dead %t", err, v, n, c)
	}
	if p := e.exec(t, true, "nomad", "system", "gc"); p.code() == 0 {
		t.Error("nomad system gc after the window worked")
	}
	if p := e.exec(t, false, "nomad", "job", "status", "-namespace", "ci"); p.code() != 0 {
		t.Errorf("nomad job status after the window: exit %d\n%s", p.code(), p.stderr.String())
	}
	e.ok(t, "token", "--for", "nomad", "--profile", e.profile)
	if sh := e.ok(t, "status", "--short", "--profile", e.profile); strings.Contains(sh.stdout.String(), "elevated") {
		t.Errorf("status --short shows a window after its end: %q", sh.stdout.String())
	}
	e.noPrivilegedAnywhere(t, priv)
}

// TestElevateUseBudgetEndsTheWindow: with --uses 1, the first write goes
// and ends the window: the second is refused and the tokens are dead.
func TestElevateUseBudgetEndsTheWindow(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := newElevUser(t, ctx)
	if p := e.elevate(t, ctx, "--uses", "1"); p.code() != 0 {
		t.Fatalf("elevate: exit %d\n%s", p.code(), p.stderr.String())
	}
	priv := e.privileged(t, ctx)
	if p := e.exec(t, true, "nomad", "system", "gc"); p.code() != 0 {
		t.Fatalf("the first write: exit %d\n%s", p.code(), p.stderr.String())
	}
	if err := teststack.WaitUntil(ctx, "the revocation after the budget", func() bool {
		v, n, c := priv.dead(ctx)
		return v && n && c
	}); err != nil {
		t.Fatal(err)
	}
	if p := e.exec(t, true, "nomad", "system", "gc"); p.code() == 0 {
		t.Error("a write after the budget worked")
	}
	e.noPrivilegedAnywhere(t, priv)
}

// TestElevateScriptCannotSkipTheSignIn: a script of the same user that
// runs elevate cannot complete it without the human: with nobody at the
// browser it times out; leaving prompt=login out of the URL right after
// the ordinary login makes Hydra skip its login page, and Vault refuses
// the sign-in (no step-up acr). No privileged token comes out.
func TestElevateScriptCannotSkipTheSignIn(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := newElevUser(t, ctx)

	p := e.run(t, "elevate", "--no-browser", "--listen", "127.0.0.1:0", "--timeout", "2s", "--profile", e.profile)
	if p.code() == 0 || !strings.Contains(p.stderr.String(), "no sign-in within") {
		t.Errorf("elevate with nobody at the browser: exit %d\n%s", p.code(), p.stderr.String())
	}

	p = e.start(t, "elevate", "--no-browser", "--listen", "127.0.0.1:0", "--profile", e.profile)
	authURL := p.waitLine(t, urlLine, time.Minute)
	u, _ := url.Parse(authURL)
	q := u.Query()
	q.Del("prompt")
	u.RawQuery = q.Encode()
	if err := e.b.Open(ctx, u.String()); err != nil {
		t.Fatal(err)
	}
	code, err := p.wait(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if code == 0 || !strings.Contains(p.stderr.String(), "Vault refused the attended sign-in") {
		t.Errorf("elevate without prompt=login: exit %d\n%s", code, p.stderr.String())
	}
	e.mu.Lock()
	n := len(e.vaultToks)
	e.mu.Unlock()
	if n != 0 {
		t.Errorf("Vault gave %d privileged tokens", n)
	}
	if a := e.run(t, "exec", "--agent", "--elevated", "--profile", e.profile, "--", "nomad", "system", "gc"); a.code() == 0 {
		t.Error("an elevated command worked without a window")
	}
}
