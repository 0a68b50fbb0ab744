package e2e

// End-to-end tests of token, env, exec, status and logout: the renewal
// chain on the real servers. Sessions are seeded without a browser: a
// plain-HTTP login at Hydra gives a refresh token, stored as a record with
// nothing else, and the first `alilogin token` goes through step 4
// (refresh grant, Vault login, mint) by itself.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/zalando/go-keyring"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

// Mounts with short lease TTLs, used only by the chain test, so that other
// tests' tokens are not affected.
var shortMounts = teststack.Mounts{JWT: "jwt", Nomad: "nomad-short", Consul: "consul-short"}

// sessionProfile configures a profile like newProfile, with a Vault token
// TTL of ttl, on mounts m. Its Vault policy is the one `broker apply`
// generates (teststack.SetupProfile), which must be enough for the chain,
// including the revocation of replaced leases.
func sessionProfile(t *testing.T, ctx context.Context, ttl string, m teststack.Mounts, roles ...string) string {
	t.Helper()
	name := fmt.Sprintf("s%d-%s", nprofiles.Add(1), strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")))
	if len(name) > 50 {
		name = name[:50]
	}
	name = strings.TrimRight(name, "-")
	if err := stack.SetupProfile(ctx, nil, teststack.ProfileSpec{Name: name, Roles: roles, TTL: ttl, NomadRules: readJobs, ConsulRules: readKV, Mounts: m}); err != nil {
		t.Fatal(err)
	}
	return name
}

// sessionUser is a test home configured for profile on mounts m.
func sessionUser(t *testing.T, profile string, m teststack.Mounts) *user {
	u := newUser(t)
	u.env["ALILOGIN_PROFILE"] = profile
	u.env["ALILOGIN_STORE"] = "keyring"
	if m.Nomad != "" {
		u.env["ALILOGIN_NOMAD_MOUNT"] = m.Nomad
		u.env["ALILOGIN_CONSUL_MOUNT"] = m.Consul
	}
	return u
}

// newSessionUser is a test home (sessionUser) for a new profile of roles
// whose Vault tokens live ttl (sessionProfile), on the default mounts.
func newSessionUser(t *testing.T, ctx context.Context, ttl string, roles ...string) (*user, string) {
	t.Helper()
	profile := sessionProfile(t, ctx, ttl, teststack.Mounts{}, roles...)
	return sessionUser(t, profile, teststack.Mounts{}), profile
}

// seed signs a new SSO user in over plain HTTP and stores a record that
// holds only the refresh token.
func seed(t *testing.T, ctx context.Context, u *user, profile string, roles ...string) (username string) {
	t.Helper()
	name, pw := newUserAccount(roles...)
	tok := hydraLogin(t, ctx, name, pw)
	putRecord(t, u, &store.Record{Version: store.RecordVersion, Profile: profile, User: name, Issuer: stack.Hydra.IssuerURL, ClientID: stack.Hydra.ClientID,
		Subject: name, RefreshToken: secret.New(tok.RefreshToken), UpdatedAt: time.Now()})
	return name
}

// seededUser is newSessionUser with its record seeded (seed) for a new
// SSO user of the same role, whose name it returns.
func seededUser(t *testing.T, ctx context.Context, ttl, role string) (u *user, profile, name string) {
	t.Helper()
	u, profile = newSessionUser(t, ctx, ttl, role)
	return u, profile, seed(t, ctx, u, profile, role)
}

// hydraLogin signs name in at Hydra over plain HTTP.
func hydraLogin(t *testing.T, ctx context.Context, name, pw string) *teststack.Tokens {
	t.Helper()
	tok, err := stack.Hydra.Login(ctx, stack.Hydra.ClientID, name, pw)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func putRecord(t *testing.T, u *user, r *store.Record) {
	t.Helper()
	st, err := store.Open("keyring", u.getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.VaultAddr == "" {
		u.bound(t, r) // as if made with the servers u is configured with
	}
	if err := st.Put(r); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Delete(r.Profile) })
}

func getRecord(t *testing.T, u *user, profile string) (*store.Record, error) {
	t.Helper()
	st, err := store.Open("keyring", u.getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	return st.Get(profile)
}

// mustRecord is getRecord that fails the test at once when the record
// cannot be read.
func mustRecord(t *testing.T, u *user, profile string) *store.Record {
	t.Helper()
	rec, err := getRecord(t, u, profile)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// ok runs alilogin and fails the test unless it exits 0.
func (u *user) ok(t *testing.T, args ...string) *proc {
	t.Helper()
	p := u.run(t, args...)
	if p.code() != 0 {
		t.Fatalf("alilogin %s: exit %d\nstderr:\n%s", strings.Join(args, " "), p.code(), p.stderr.String())
	}
	return p
}

func tokenOut(p *proc) string { return strings.TrimSuffix(p.stdout.String(), "\n") }

// gone reports whether a server no longer knows the token accessor.
func gone(ctx context.Context, c *apiclient.Client, accessor string) bool {
	err := c.Do(ctx, "GET", "/v1/acl/token/"+accessor, nil, nil)
	st := apiclient.StatusOf(err)
	return st == 403 || st == 404
}

// acceptedBy checks that a server takes the token.
func acceptedBy(t *testing.T, ctx context.Context, c *apiclient.Client, path, token string) {
	t.Helper()
	if err := c.WithToken(secret.New(token)).Do(ctx, "GET", path, nil, nil); err != nil {
		t.Errorf("%s refuses the token: %v", c.Name, err)
	}
}

// counted is the count a teststack counter gave, or t fails at once on
// its error.
func counted(t *testing.T) func(int, error) int {
	return func(n int, err error) int {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
}

// countNomadTokens counts the Nomad tokens that carry the profile's policy.
func countNomadTokens(t *testing.T, ctx context.Context, profile string) int {
	t.Helper()
	return counted(t)(stack.NomadTokens(ctx, profile+"-nomad"))
}

// countVaultTokens counts the live Vault tokens with the profile's policy:
// the Vault logins of the profile that have not expired.
func countVaultTokens(t *testing.T, ctx context.Context, profile string) int {
	t.Helper()
	return counted(t)(stack.VaultTokens(ctx, teststack.VaultPolicy(profile)))
}

func steps(p *proc) string { return p.stderr.String() }

// TestTokenChain walks the chain on the real servers: step 4 from a
// record with only a refresh token, step 1, lease renewal, re-mint at the
// lease's max TTL with the replaced token revoked, and the Vault token's
// expiry answered by the refresh token.
func TestTokenChain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Vault token 40 s; Nomad leases 16 s, at most 20 s; margin 4 s.
	profile := sessionProfile(t, ctx, "40s", shortMounts, "chain-users")
	if err := stack.Vault.Client().Do(ctx, "POST", "/v1/nomad-short/config/lease", map[string]any{"ttl": 16, "max_ttl": 20}, nil); err != nil {
		t.Fatal(err)
	}
	u := sessionUser(t, profile, shortMounts)
	seed(t, ctx, u, profile, "chain-users")
	nomad, consul := stack.Nomad.Client(), stack.Consul.Client()
	args := func(a ...string) []string { return append(a, "--min-ttl", "4s", "-v") }

	// Step 4 from a refresh token alone: all three tokens.
	t0 := time.Now()
	p := u.ok(t, args("env", "--shell", "json", "--for", "vault,nomad,consul")...)
	for _, s := range []string{"refreshed SSO session", "logged in to vault", "minted nomad token", "minted consul token"} {
		if !strings.Contains(steps(p), s) {
			t.Errorf("first call: no %q in stderr:\n%s", s, steps(p))
		}
	}
	var env map[string]string
	if err := json.Unmarshal([]byte(p.stdout.String()), &env); err != nil {
		t.Fatal(err)
	}
	acceptedBy(t, ctx, nomad, "/v1/acl/token/self", env["NOMAD_TOKEN"])
	acceptedBy(t, ctx, consul, "/v1/acl/token/self", env["CONSUL_HTTP_TOKEN"])
	rec1 := mustRecord(t, u, profile)

	// Step 1: cached, nothing done.
	p = u.ok(t, args("token", "--for", "nomad")...)
	if tokenOut(p) != env["NOMAD_TOKEN"] || strings.Contains(steps(p), "alilogin:") {
		t.Errorf("cached call did something: %q", steps(p))
	}

	// The times below are anchored on the lease's expiry as stored (16 s
	// after it was issued; its max is 4 s later), not on the clock at the
	// start, so that a slow first call does not shift them.
	exp1 := rec1.Nomad.ExpiresAt
	if d := exp1.Sub(t0); d < 14*time.Second || d > 20*time.Second {
		t.Fatalf("nomad lease expiry %s after the start, want about 16s", d)
	}

	// Step 2: 2.5 s left < 4 s: the lease is renewed (to its max, 4 s later).
	time.Sleep(time.Until(exp1.Add(-2500 * time.Millisecond)))
	p = u.ok(t, args("token", "--for", "nomad")...)
	if !strings.Contains(steps(p), "renewed nomad lease") || tokenOut(p) != env["NOMAD_TOKEN"] {
		t.Errorf("renewal: token changed=%v, stderr:\n%s", tokenOut(p) != env["NOMAD_TOKEN"], steps(p))
	}

	// Step 3: 2.5 s before its max, the lease can't be renewed for 4 s: a
	// new token, the old one revoked.
	time.Sleep(time.Until(exp1.Add(1500 * time.Millisecond)))
	p = u.ok(t, args("token", "--for", "nomad")...)
	newNomad := tokenOut(p)
	if !strings.Contains(steps(p), "minted nomad token") || !strings.Contains(steps(p), "revoked replaced nomad lease") || newNomad == env["NOMAD_TOKEN"] ||
		strings.Contains(steps(p), "could not revoke") {
		t.Errorf("re-mint: stderr:\n%s", steps(p))
	}
	if !gone(ctx, nomad, rec1.Nomad.Accessor) {
		t.Errorf("replaced Nomad token %s still exists", rec1.Nomad.Accessor)
	}
	acceptedBy(t, ctx, nomad, "/v1/acl/token/self", newNomad)
	rec2 := mustRecord(t, u, profile)

	// Step 4: the Vault token has expired; the refresh token gives a new
	// one, and new Nomad and Consul tokens. The old ones are gone.
	time.Sleep(time.Until(rec1.Vault.ExpiresAt.Add(time.Second)))
	p = u.ok(t, args("token", "--for", "nomad")...)
	for _, s := range []string{"refreshed SSO session", "logged in to vault", "minted nomad token", "minted consul token"} {
		if !strings.Contains(steps(p), s) {
			t.Errorf("after Vault expiry: no %q in stderr:\n%s", s, steps(p))
		}
	}
	acceptedBy(t, ctx, nomad, "/v1/acl/token/self", tokenOut(p))
	rec3 := mustRecord(t, u, profile)
	if rec3.RefreshToken.Equal(rec2.RefreshToken) {
		t.Error("the rotated refresh token was not stored")
	}
	acceptedBy(t, ctx, consul, "/v1/acl/token/self", rec3.Consul.Secret.Reveal())
	if !testutil.Eventually(15*time.Second, func() bool {
		return gone(ctx, nomad, rec2.Nomad.Accessor) && gone(ctx, consul, rec1.Consul.Accessor)
	}) {
		t.Errorf("tokens of the expired Vault token still exist: nomad gone=%v consul gone=%v",
			gone(ctx, nomad, rec2.Nomad.Accessor), gone(ctx, consul, rec1.Consul.Accessor))
	}
	if c := countNomadTokens(t, ctx, profile); c != 1 {
		t.Errorf("%d Nomad tokens of the profile exist, want 1", c)
	}
}

// TestTokenLoginNeeded: a refresh token revoked at the SSO gives the
// login-needed exit code and the one-line hint.
func TestTokenLoginNeeded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, profile, name := seededUser(t, ctx, "1h", "ln-users")
	if err := stack.Hydra.RevokeSessions(ctx, name); err != nil {
		t.Fatal(err)
	}
	p := u.run(t, "token", "--for", "nomad")
	want := fmt.Sprintf("alilogin: not logged in for profile %s; run: alilogin login --profile %s\n", profile, profile)
	if p.code() != 4 || p.stderr.String() != want || p.stdout.String() != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 4 and %q", p.code(), p.stdout.String(), p.stderr.String(), want)
	}
}

// TestTokenConcurrent: 50 processes on an expired cache make one refresh.
func TestTokenConcurrent(t *testing.T) {
	t.Parallel() // its own profile; most of it waits for the tokens' expiry
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	u, profile, _ := seededUser(t, ctx, "20s", "cc-users")
	first := tokenOut(u.ok(t, "token", "--for", "nomad"))
	// Wait for the Vault token, and with it the Nomad token, to expire
	// (20 s) and be gone.
	if !testutil.EventuallyEvery(40*time.Second, 100*time.Millisecond, func() bool {
		return countNomadTokens(t, ctx, profile) == 0 && countVaultTokens(t, ctx, profile) == 0
	}) {
		t.Fatalf("expired tokens still there: nomad %d, vault %d", countNomadTokens(t, ctx, profile), countVaultTokens(t, ctx, profile))
	}

	const n = 50
	procs := make([]*proc, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			procs[i] = u.start(t, "token", "--for", "nomad", "--min-ttl", "2s", "-v")
		}()
	}
	wg.Wait()
	got := map[string]int{}
	refreshes := 0
	for i, p := range procs {
		if c, err := p.wait(2 * time.Minute); err != nil || c != 0 {
			t.Fatalf("call %d: exit %d %v\nstderr:\n%s", i, c, err, p.stderr.String())
		}
		got[tokenOut(p)]++
		refreshes += strings.Count(p.stderr.String(), "refreshed SSO session")
	}
	if len(got) != 1 {
		t.Errorf("the calls printed %d different tokens", len(got))
	}
	for tok := range got {
		if tok == first {
			t.Error("the expired token was printed")
		}
		acceptedBy(t, ctx, stack.Nomad.Client(), "/v1/acl/token/self", tok)
	}
	if refreshes != 1 {
		t.Errorf("%d refreshes, want 1", refreshes)
	}
	if c := countVaultTokens(t, ctx, profile); c != 1 {
		t.Errorf("%d Vault logins, want 1", c)
	}
	if c := countNomadTokens(t, ctx, profile); c != 1 {
		t.Errorf("%d Nomad tokens, want 1", c)
	}
	u.ok(t, "status") // the store is still valid
}

// TestEnvInShells: the env output works in bash, zsh and fish (which CI
// installs; required there) and in pwsh when it is installed (skipped
// otherwise, with the reason), and the real nomad and consul CLIs accept
// what it sets.
func TestEnvInShells(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _, _ := seededUser(t, ctx, "1h", "env-users")
	u.ok(t, "env", "--for", "vault,nomad,consul")
	nomadTok := tokenOut(u.ok(t, "token", "--for", "nomad"))
	u.env["NOMAD_TOKEN"] = "stale"
	binDir := teststack.BinDir()
	u.env["PATH"] = filepath.Dir(bin) + ":" + binDir + ":" + os.Getenv("PATH")

	posix := `set -e; eval "$(alilogin env)"; test "$NOMAD_TOKEN" != stale; echo "$NOMAD_TOKEN"; nomad acl token self >/dev/null; consul acl token read -self >/dev/null; echo "$ALILOGIN_TOKEN_EXPIRY"`
	shells := []struct {
		name     string
		args     []string
		optional bool // not in CI: no Debian package
	}{
		{"bash", []string{"-c", posix}, false},
		{"zsh", []string{"-f", "-c", posix}, false},
		{"fish", []string{"--no-config", "-c", `alilogin env --shell fish | source; or exit 1; echo $NOMAD_TOKEN; nomad acl token self >/dev/null; or exit 1; consul acl token read -self >/dev/null; or exit 1; echo $ALILOGIN_TOKEN_EXPIRY`}, false},
		{"pwsh", []string{"-NoProfile", "-Command", `alilogin env --shell powershell | Out-String | Invoke-Expression; Write-Output $Env:NOMAD_TOKEN; nomad acl token self | Out-Null; if ($LASTEXITCODE) { exit 1 }; Write-Output $Env:ALILOGIN_TOKEN_EXPIRY`}, true},
	}
	for _, sh := range shells {
		t.Run(sh.name, func(t *testing.T) {
			if _, err := exec.LookPath(sh.name); err != nil && sh.optional {
				// The one skip allowed: pwsh is no Debian package, so CI
				// cannot install it. make test lists it among the skipped.
				t.Skipf("%s not installed, not tried (no Debian package; internal/shellenv's TestPowerShellOutput covers the PowerShell quoting)", sh.name)
			}
			cmd := exec.Command(requireTool(t, sh.name), sh.args...)
			cmd.Env = u.environ()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", sh.name, err, out)
			}
			l := lines(string(out))
			if len(l) < 2 || l[0] != nomadTok {
				t.Fatalf("output:\n%s", out)
			}
			if exp, err := time.Parse(time.RFC3339, l[len(l)-1]); err != nil || time.Until(exp) < 30*time.Minute {
				t.Errorf("ALILOGIN_TOKEN_EXPIRY = %q (%v)", l[len(l)-1], err)
			}
		})
	}
}

// TestExec: environment, exit code, signals, nesting.
func TestExec(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile, _ := seededUser(t, ctx, "1h", "exec-users")
	vaultTok := tokenOut(u.ok(t, "token", "--for", "vault"))
	u.env["VAULT_TOKEN"] = "stale-vault"
	u.env["CONSUL_HTTP_TOKEN"] = "stale-consul"

	t.Run("env and exit code", func(t *testing.T) {
		p := u.run(t, "exec", "--for", "vault", "--", "sh", "-c", `echo "$VAULT_TOKEN|${CONSUL_HTTP_TOKEN-unset}|$ALILOGIN_EXEC|$ALILOGIN_PROFILE|$ALILOGIN_TOKEN_EXPIRY"; exit 7`)
		if p.code() != 7 {
			t.Fatalf("exit %d, want 7; stderr:\n%s", p.code(), p.stderr.String())
		}
		f := strings.Split(strings.TrimSpace(p.stdout.String()), "|")
		if len(f) != 5 || f[0] != vaultTok || f[1] != "unset" || f[2] != profile || f[3] != profile {
			t.Errorf("child saw %q", p.stdout.String())
		}
		if _, err := time.Parse(time.RFC3339, f[len(f)-1]); err != nil {
			t.Errorf("expiry %q: %v", f[len(f)-1], err)
		}
	})

	t.Run("no command: $SHELL", func(t *testing.T) {
		// The shell reads its commands from stdin, as at a terminal.
		cmd := exec.Command(bin, "exec", "--for", "vault")
		cmd.Env = append(u.environ(), "SHELL=/bin/sh")
		cmd.Stdin = strings.NewReader(`echo "$VAULT_TOKEN|$ALILOGIN_EXEC"; exit 9` + "\n")
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != 9 || strings.TrimSpace(out.String()) != vaultTok+"|"+profile {
			t.Errorf("exit %d (%v), stdout %q, stderr %q; want 9 and the token from a shell", code, err, out.String(), errb.String())
		}
	})

	t.Run("signals", func(t *testing.T) {
		p := u.start(t, "exec", "--", "sh", "-c", `trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done`)
		testutil.WaitFor(t, 30*time.Second, "COMMAND's ready on stdout", func() bool { return strings.Contains(p.stdout.String(), "ready") })
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if c, err := p.wait(30 * time.Second); err != nil || c != 42 || !strings.Contains(p.stdout.String(), "got-term") {
			t.Errorf("exit %d (%v), stdout %q; want 42 and got-term", c, err, p.stdout.String())
		}
	})

	t.Run("nesting refused", func(t *testing.T) {
		p := u.run(t, "exec", "--", bin, "exec", "--", "true")
		if p.code() != 1 || !strings.Contains(p.stderr.String(), "nesting is refused") {
			t.Errorf("exit %d, stderr %q", p.code(), p.stderr.String())
		}
	})

	t.Run("missing command", func(t *testing.T) {
		p := u.run(t, "exec", "--", "no-such-command-xyz")
		if p.code() != 127 {
			t.Errorf("exit %d, stderr %q", p.code(), p.stderr.String())
		}
	})
}

// TestStatus: masked tokens, JSON, exit codes.
func TestStatus(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, profile, name := seededUser(t, ctx, "1h", "st-users")
	u.ok(t, "env", "--for", "vault,nomad,consul")
	rec := mustRecord(t, u, profile)
	p := u.ok(t, "status")
	out := p.stdout.String()
	for _, s := range []string{profile, name, "vault:", "nomad:", "consul:", teststack.VaultPolicy(profile), profile + "-nomad"} {
		if !strings.Contains(out, s) {
			t.Errorf("status lacks %q:\n%s", s, out)
		}
	}
	noLeaks(t, p, rec.Vault.Secret, rec.Nomad.Secret, rec.Consul.Secret, rec.RefreshToken)
	p = u.ok(t, "status", "--json", "--show-tokens")
	var js struct {
		Profile string `json:"profile"`
		Usable  bool   `json:"usable"`
		Tokens  map[string]struct {
			Token      string `json:"token"`
			TTLSeconds int    `json:"ttl_seconds"`
		} `json:"tokens"`
	}
	if err := json.Unmarshal([]byte(p.stdout.String()), &js); err != nil {
		t.Fatal(err)
	}
	if !js.Usable || js.Tokens["nomad"].Token != rec.Nomad.Secret.Reveal() || js.Tokens["vault"].TTLSeconds < 3000 {
		t.Errorf("status --json = %+v", js)
	}
	if p := u.run(t, "status", "--profile", "nobody-here"); p.code() != 4 {
		t.Errorf("status of a missing profile: exit %d", p.code())
	}
}

// TestLogout: the servers reject all three tokens afterwards, the refresh
// token is revoked at Hydra, and the store is empty.
func TestLogout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile, _ := seededUser(t, ctx, "1h", "lo-users")
	u.ok(t, "env", "--for", "vault,nomad,consul")
	rec := mustRecord(t, u, profile)
	p := u.ok(t, "logout")
	if !strings.Contains(p.stderr.String(), "logged out of profile "+profile) {
		t.Errorf("stderr: %s", p.stderr.String())
	}
	if err := stack.Vault.Client().WithToken(rec.Vault.Secret).Do(ctx, "GET", "/v1/auth/token/lookup-self", nil, nil); apiclient.StatusOf(err) != 403 {
		t.Errorf("Vault still accepts the token: %v", err)
	}
	if !testutil.Eventually(10*time.Second, func() bool {
		return gone(ctx, stack.Nomad.Client(), rec.Nomad.Accessor) && gone(ctx, stack.Consul.Client(), rec.Consul.Accessor)
	}) {
		t.Error("the Nomad or Consul token survived the logout")
	}
	if _, err := stack.Hydra.Refresh(ctx, stack.Hydra.ClientID, rec.RefreshToken.Reveal()); err == nil {
		t.Error("Hydra still accepts the refresh token")
	}
	if _, err := getRecord(t, u, profile); err != store.ErrNotFound {
		t.Errorf("record after logout: %v", err)
	}
	if p := u.run(t, "status"); p.code() != 4 {
		t.Errorf("status after logout: exit %d", p.code())
	}
	// The record was cached in the kernel keyring by env: the next
	// process must not find it there either.
	if p := u.run(t, "token", "--for", "nomad"); p.code() != 4 {
		t.Errorf("token after logout: exit %d, stdout %q", p.code(), p.stdout.String())
	}
}

// TestLogoutVaultDown: nothing can be revoked, the record is deleted
// anyway, with a warning and exit code 3.
func TestLogoutVaultDown(t *testing.T) {
	port, err := teststack.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	u := sessionUser(t, "down", teststack.Mounts{})
	u.env["VAULT_ADDR"] = fmt.Sprintf("http://127.0.0.1:%d", port)
	now := time.Now()
	putRecord(t, u, &store.Record{Version: store.RecordVersion, Profile: "down", User: "x",
		Vault: &store.Token{Secret: secret.New("hvs.fake"), Accessor: "acc1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
		Nomad: &store.Token{Secret: secret.New("nomad-fake"), LeaseID: "nomad/creds/down/x", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}})
	p := u.run(t, "logout")
	if p.code() != 3 || !strings.Contains(p.stderr.String(), "could not revoke the Vault token") || !strings.Contains(p.stderr.String(), "unreachable") {
		t.Errorf("exit %d, stderr:\n%s", p.code(), p.stderr.String())
	}
	if _, err := getRecord(t, u, "down"); err != store.ErrNotFound {
		t.Errorf("record still there: %v", err)
	}
	noLeaks(t, p, secret.New("hvs.fake"), secret.New("nomad-fake"))
}

// TestBadInput: clear errors, the right exit codes, no panics.
func TestBadInput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u := sessionUser(t, "corrupt", teststack.Mounts{})
	if err := keyring.Set("alilogin", "profile:corrupt", "{not json"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keyring.Delete("alilogin", "profile:corrupt") })

	profile := sessionProfile(t, ctx, "1h", teststack.Mounts{}, "bad-users")
	locked := sessionUser(t, profile, teststack.Mounts{})
	seed(t, ctx, locked, profile, "bad-users")
	// A regular file where the lock directory should be.
	stateDir := filepath.Join(locked.env["XDG_STATE_HOME"], "alilogin")
	os.MkdirAll(stateDir, 0o700)
	os.WriteFile(filepath.Join(stateDir, "locks"), []byte("x"), 0o600)

	tests := []struct {
		name     string
		u        *user
		args     []string
		code     int
		contains string
	}{
		{"unknown --for", u, []string{"token", "--for", "postgres"}, 2, `unknown token kind "postgres"`},
		{"no --for", u, []string{"token"}, 2, "--for is required"},
		{"unknown shell", u, []string{"env", "--shell", "tcsh"}, 2, "unknown shell"},
		{"corrupted record", u, []string{"token", "--for", "nomad"}, 1, "alilogin logout --profile corrupt"},
		{"corrupted record, status", u, []string{"status"}, 4, "alilogin logout --profile corrupt"},
		{"missing profile", u, []string{"token", "--for", "vault", "--profile", "nope"}, 4, "not logged in for profile nope; run: alilogin login --profile nope"},
		{"invalid profile", u, []string{"token", "--for", "vault", "--profile", "../x"}, 2, "invalid profile name"},
		{"unreadable lock dir", locked, []string{"token", "--for", "nomad"}, 1, "could not create lock directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.u.run(t, tc.args...)
			if p.code() != tc.code || !strings.Contains(p.stderr.String(), tc.contains) {
				t.Errorf("exit %d, stderr %q; want %d and %q", p.code(), p.stderr.String(), tc.code, tc.contains)
			}
			if strings.Contains(p.stderr.String(), "panic") || strings.Contains(p.stderr.String(), "goroutine") {
				t.Errorf("panic:\n%s", p.stderr.String())
			}
			if p.stdout.String() != "" {
				t.Errorf("stdout: %q", p.stdout.String())
			}
		})
	}
	// logout clears the corrupted record.
	if p := u.run(t, "logout"); p.code() != 3 {
		t.Errorf("logout of a corrupted record: exit %d, stderr %s", p.code(), p.stderr.String())
	}
	if _, err := keyring.Get("alilogin", "profile:corrupt"); err != keyring.ErrNotFound {
		t.Errorf("corrupted record still there: %v", err)
	}
}

// TestFastKeyringRead: the token path's fast Secret Service read gives
// what the store's Get gives, and gives up where it should.
func TestFastKeyringRead(t *testing.T) {
	u := sessionUser(t, "fastread", teststack.Mounts{})
	now := time.Now().UTC().Truncate(time.Second)
	putRecord(t, u, &store.Record{Version: store.RecordVersion, Profile: "fastread", User: "u", Roles: []string{"a", "b"}, RefreshToken: secret.New("rt"),
		Vault: &store.Token{Secret: secret.New("hvs.x"), Accessor: "acc", Renewable: true, Policies: []string{"p"}, IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
		Nomad: &store.Token{Secret: secret.New("n"), LeaseID: "nomad/creds/fastread/1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}})
	st := store.NewKeyring(0, 0) // the Secret Service itself, not the kernel cache
	slow, err := st.Get("fastread")
	if err != nil {
		t.Fatal(err)
	}
	fast, ok, err := store.FastKeyringGet(os.Getenv, "fastread")
	if !ok || err != nil {
		t.Fatalf("fast read: ok=%v err=%v", ok, err)
	}
	if diff := cmp.Diff(slow, fast, cmp.Comparer(func(a, b secret.String) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("fast read differs (-slow +fast):\n%s", diff)
	}
	// The fast rewrite of an existing record: the store reads it back.
	fast.Nomad.Secret = secret.New("n2")
	fast.RefreshToken = secret.New("rt2")
	if !store.FastKeyringUpdate(os.Getenv, fast) {
		t.Fatal("fast update failed")
	}
	back, err := st.Get("fastread")
	if err != nil || back.Nomad.Secret.Reveal() != "n2" || back.RefreshToken.Reveal() != "rt2" {
		t.Errorf("after the fast update: %v, %+v", err, back)
	}
	if l, err := st.List(); err != nil || !slices.Contains(l, "fastread") {
		t.Errorf("index after the fast update: %v %v", l, err)
	}
	if _, ok, _ := store.FastKeyringGet(os.Getenv, "fastread-missing"); ok {
		t.Error("fast read of a missing record succeeded")
	}
	if err := keyring.Set("alilogin", "profile:fastbad", "{"); err != nil {
		t.Fatal(err)
	}
	defer keyring.Delete("alilogin", "profile:fastbad")
	var ce *store.CorruptError
	if _, ok, err := store.FastKeyringGet(os.Getenv, "fastbad"); !ok || !errors.As(err, &ce) {
		t.Errorf("fast read of a corrupt record: ok=%v err=%v", ok, err)
	}
}

// busConnections returns a function that says how many connections were
// made to the session bus since busConnections was called: dbus-daemon
// names connections :1.1, :1.2, ... in order, so two probes' unique names
// bound the count (the probes excluded).
func busConnections(t *testing.T) func() int {
	t.Helper()
	probe := func() int {
		c, err := dbus.SessionBusPrivate()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Auth(nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Hello(); err != nil {
			t.Fatal(err)
		}
		_, n, ok := strings.Cut(c.Names()[0], ".")
		i, err := strconv.Atoi(n)
		if !ok || err != nil {
			t.Fatalf("unique name %q", c.Names()[0])
		}
		return i
	}
	before := probe()
	return func() int { return probe() - before - 1 }
}

// TestKeyringReadsAndWritesOnOneConnection: a renewal reads the record
// from the Secret Service up to three times and writes it once; the
// store makes one bus connection for all of them, and a read on it sees
// what another client wrote meanwhile.
func TestKeyringReadsAndWritesOnOneConnection(t *testing.T) {
	u := sessionUser(t, "oneconn", teststack.Mounts{})
	putRecord(t, u, &store.Record{Version: store.RecordVersion, Profile: "oneconn", User: "u", RefreshToken: secret.New("rt")})
	st, err := store.Open("keyring", u.getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	st = store.Authoritative(st) // the renewal's reads: past the kernel cache
	read := func(want string) {
		t.Helper()
		r, err := st.Get("oneconn")
		if err != nil || r.RefreshToken.Reveal() != want {
			t.Fatalf("read %v (%v), want refresh token %s", r, err, want)
		}
	}
	made := busConnections(t)
	r, err := st.Get("oneconn")
	if err != nil {
		t.Fatal(err)
	}
	r.RefreshToken = secret.New("rt2")
	if err := st.Put(r); err != nil {
		t.Fatal(err)
	}
	read("rt2")
	if n := made(); n != 1 {
		t.Errorf("%d bus connections for two reads and a write, want 1", n)
	}
	// Another client writes; the kept connection reads what it wrote.
	if err := keyring.Set("alilogin", "profile:oneconn", `{"version":1,"profile":"oneconn","user":"u","refresh_token":"rt3"}`); err != nil {
		t.Fatal(err)
	}
	made = busConnections(t)
	read("rt3")
	if n := made(); n != 0 {
		t.Errorf("%d bus connections for a read on the kept connection, want 0", n)
	}
}

var (
	ptyURL   = regexp.MustCompile(`(?m)^  (https?://\S+?)\r?$`)
	uuidLike = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
)

// TestTokenLogin: --login signs in only on a terminal; script(1) gives
// alilogin one.
func TestTokenLogin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile := newSessionUser(t, ctx, "1h", "tl-users")
	name, pw := newUserAccount("tl-users")

	// Not a terminal: no browser, no URL, the login-needed code.
	p := u.run(t, "token", "--for", "nomad", "--login")
	if p.code() != 4 || strings.Contains(p.stderr.String(), "http") || p.stdout.String() != "" {
		t.Fatalf("without a terminal: exit %d, stdout %q, stderr %q", p.code(), p.stdout.String(), p.stderr.String())
	}

	script := requireTool(t, "script")
	cmd := exec.Command(script, "-qfec", bin+" token --for nomad --login", "/dev/null")
	cmd.Env = u.environ()
	out := &teststack.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	stdin, err := cmd.StdinPipe() // kept open: script ends its session at EOF
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	defer func() {
		select {
		case <-done:
		default:
			cmd.Process.Kill()
			<-done
		}
	}()
	var authURL string
	if !testutil.Eventually(time.Minute, func() bool {
		if m := ptyURL.FindStringSubmatch(out.String()); m != nil {
			authURL = m[1]
		}
		return authURL != ""
	}) {
		t.Fatalf("no sign-in URL on the terminal:\n%s", out.String())
	}
	signInAt(t, ctx, authURL, name, pw, out.String)
	select {
	case <-done:
		if waitErr != nil {
			t.Fatalf("exit: %v\nterminal:\n%s", waitErr, out.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("alilogin did not finish:\n%s", out.String())
	}
	ids := uuidLike.FindAllString(out.String(), -1)
	if len(ids) == 0 {
		t.Fatalf("no token on the terminal:\n%s", out.String())
	}
	// On a terminal, a spinner shows while the sign-in is pending.
	if !strings.Contains(out.String(), "waiting for the sign-in in the browser") {
		t.Errorf("no progress line on the terminal:\n%s", out.String())
	}
	acceptedBy(t, ctx, stack.Nomad.Client(), "/v1/acl/token/self", ids[len(ids)-1])
	st, _ := store.Open("keyring", u.getenv, nil)
	t.Cleanup(func() { _ = st.Delete(profile) })
}
