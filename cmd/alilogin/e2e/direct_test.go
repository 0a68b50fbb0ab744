package e2e

// The direct login at Nomad and Consul (issue 24) on the real servers:
// a Vault of the test's own, stopped (SIGSTOP: it accepts connections and
// never answers) or sealed, and a profile whose Nomad and Consul have JWT
// auth methods that trust the stack's Hydra.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/secret"
	"github.com/alisw/alilogin/internal/serve"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

// directTTL is the tokens' TTL at both servers: their floor.
const directTTL = time.Minute

// The profile of the direct login tests and its policies, as `broker
// apply` makes them from the policies folder directPolicies writes.
const (
	directProfile      = "direct-ci"
	directNomadPolicy  = "direct-read-jobs"
	directConsulPolicy = "direct-kv-read"
)

// directPolicies writes a broker's policies folder with direct login on
// (broker.hcl's direct_login block) and one profile, directProfile, for
// role ci-users, with a TTL of directTTL and the profile's direct_login
// mode ("fallback" or "always").
func directPolicies(t *testing.T, mode string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"broker.hcl": stack.BrokerConfig(true) + teststack.DirectLoginBlock,
		"profiles.hcl": fmt.Sprintf(`profile %q {
  roles           = ["ci-users"]
  nomad_policies  = [%q]
  consul_policies = [%q]
  ttl             = %q
  max_ttl         = "1h"
  direct_login    = %q
}
`, directProfile, directNomadPolicy, directConsulPolicy, directTTL, mode),
		"nomad/" + directNomadPolicy + ".hcl":   readJobs + "\n",
		"consul/" + directConsulPolicy + ".hcl": readKV + "\n",
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// directSetup starts a Vault of the test's own, runs `broker apply` of
// directPolicies (the profile's direct_login: mode) on it and the stack's Nomad and Consul (which makes the
// profile's JWT auth methods, binding rules and Consul role), and gives
// a user whose broker is down but whose cached discovery document is the
// one `broker serve` renders of the same folder (the auth methods'
// names come from it, as they would from the broker).
func directSetup(t *testing.T, ctx context.Context, mode string) (*teststack.Vault, *user, string) {
	t.Helper()
	v, err := stack.StartVault(ctx, teststack.VaultOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Continue(); v.Kill() })
	if err := stack.EnsureMounts(ctx, v, teststack.Mounts{}); err != nil {
		t.Fatal(err)
	}
	dir := directPolicies(t, mode)
	apply := exec.CommandContext(ctx, brokerBin, "apply", "--auto-approve", dir)
	apply.Env = append(append(os.Environ(), stack.Env()...), "VAULT_ADDR="+v.Addr, "VAULT_TOKEN="+v.RootToken)
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("broker apply: %v\n%s", err, out)
	}
	cfg, err := policy.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	doc := serve.Discovery(cfg, serve.Public{VaultAddr: v.Addr, NomadAddr: stack.Nomad.Addr, ConsulAddr: stack.Consul.Addr})

	u := newUser(t)
	u.env["VAULT_ADDR"] = v.Addr
	u.env["ALILOGIN_PROFILE"] = directProfile
	u.env["ALILOGIN_STORE"] = "keyring"
	u.env["ALILOGIN_BROKER"] = "http://127.0.0.1:1" // down: the cached document is used
	cdir, err := config.Dir(u.getenv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cdir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := config.WriteDiscoveryCache(cdir, u.env["ALILOGIN_BROKER"], &doc); err != nil {
		t.Fatal(err)
	}
	return v, u, directProfile
}

// loginWithVaultDown is directSetup ("fallback") and a login, once the
// Vault is down (how: "stopped", SIGSTOP, or "sealed"), of a new SSO
// user of ci-users; it returns the Vault, the test home, the profile, the
// SSO user's name and password, and the record the login stored.
func loginWithVaultDown(t *testing.T, ctx context.Context, how string) (v *teststack.Vault, u *user, profile, name, pw string, rec *store.Record) {
	t.Helper()
	v, u, profile = directSetup(t, ctx, "fallback")
	name, pw = newUserAccount("ci-users")
	var err error
	switch how {
	case "stopped":
		err = v.Stop()
	case "sealed":
		err = v.Seal(ctx)
	default:
		t.Fatalf("no way to take Vault down called %q", how)
	}
	if err != nil {
		t.Fatal(err)
	}
	loginOK(t, ctx, u, name, pw, "login with Vault "+how, "--profile", profile)
	return v, u, profile, name, pw, mustRecord(t, u, profile)
}

// waitVaultRenewal waits up to a minute for `token --for vault` to
// succeed (once Vault is back, a renewal through it), trying once a
// second: each try is a process.
func waitVaultRenewal(t *testing.T, u *user) {
	t.Helper()
	last := time.Time{}
	testutil.WaitFor(t, time.Minute, "a renewal through Vault", func() bool {
		if time.Since(last) < time.Second {
			return false
		}
		last = time.Now()
		return u.run(t, "token", "--for", "vault").code() == 0
	})
}

// aclSelf is a token's self lookup at Nomad or Consul.
type aclSelf struct {
	AccessorID     string
	Policies       []json.RawMessage
	Roles          []struct{ Name string }
	CreateTime     time.Time
	ExpirationTime *time.Time
}

// checkDirectToken checks that the server of kind takes tok, with the
// profile's policy (Nomad) or role (Consul), an expiry no later than the
// profile's TTL after its creation, and refuses a write the policy does
// not allow.
func checkDirectToken(t *testing.T, ctx context.Context, k store.Kind, tok, profile string) *aclSelf {
	t.Helper()
	c := stack.Nomad.Client()
	if k == store.Consul {
		c = stack.Consul.Client()
	}
	c = c.WithToken(secret.New(tok))
	var self aclSelf
	if err := c.Do(ctx, "GET", "/v1/acl/token/self", nil, &self); err != nil {
		t.Fatalf("%s refuses the direct token: %v", k.Title(), err)
	}
	switch k {
	case store.Nomad:
		if !slices.ContainsFunc(self.Policies, func(p json.RawMessage) bool { return string(p) == `"`+directNomadPolicy+`"` }) {
			t.Errorf("Nomad token policies %s; want %s", self.Policies, directNomadPolicy)
		}
		if err := c.Do(ctx, "GET", "/v1/jobs", nil, nil); err != nil {
			t.Errorf("Nomad refuses the profile's read: %v", err)
		}
		if err := c.Do(ctx, "POST", "/v1/acl/policy/forbidden", map[string]string{"Name": "forbidden", "Rules": readJobs}, nil); err == nil {
			t.Errorf("Nomad let the direct token write a policy")
		}
	case store.Consul:
		if len(self.Roles) != 1 || self.Roles[0].Name != policy.ConsulDirectRole(profile) {
			t.Errorf("Consul token roles %+v; want %s", self.Roles, policy.ConsulDirectRole(profile))
		}
		if err := c.Do(ctx, "PUT", "/v1/kv/direct-test", "x", nil); err == nil {
			t.Errorf("Consul let the direct token write a key")
		}
	}
	if self.ExpirationTime == nil || self.ExpirationTime.Sub(self.CreateTime) > directTTL+time.Second {
		t.Errorf("%s token expiry %v, created %v: want no later than %s after", k.Title(), self.ExpirationTime, self.CreateTime, directTTL)
	}
	return &self
}

// directRefused reports whether the server of kind refuses tok now, for
// a call its policy allows (Nomad answers a self lookup even for an
// expired token).
func directRefused(ctx context.Context, k store.Kind, tok string) bool {
	c, path := stack.Nomad.Client(), "/v1/jobs"
	if k == store.Consul {
		c, path = stack.Consul.Client(), "/v1/acl/token/self"
	}
	err := c.WithToken(secret.New(tok)).Do(ctx, "GET", path, nil, nil)
	return apiclient.StatusOf(err) == http.StatusForbidden
}

// statusFrom is where status --json says each token came from.
func statusFrom(t *testing.T, u *user) map[string]string {
	t.Helper()
	p := u.ok(t, "status", "--json")
	var s struct {
		Tokens map[string]struct{ From string } `json:"tokens"`
	}
	if err := json.Unmarshal([]byte(p.stdout.String()), &s); err != nil {
		t.Fatalf("status --json: %v\n%s", err, p.stdout.String())
	}
	out := map[string]string{}
	for k, v := range s.Tokens {
		out[k] = v.From
	}
	return out
}

// timedToken runs `alilogin token --for kind` with args and returns the
// token and how long it took.
func timedToken(t *testing.T, u *user, k store.Kind, args ...string) (string, time.Duration) {
	t.Helper()
	t0 := time.Now()
	p := u.ok(t, append([]string{"token", "--for", string(k)}, args...)...)
	return tokenOut(p), time.Since(t0)
}

// TestDirectLoginWhenVaultStopped: with the profile's Vault stopped,
// `login` and `token` get Nomad and Consul tokens from their direct
// login, which the servers accept with the profile's policies and an
// expiry within its TTL; `token` answers within a few seconds (the short
// probe, remembered); the replaced Consul token and, after logout, the
// last one are gone; the Nomad tokens are refused once expired.
func TestDirectLoginWhenVaultStopped(t *testing.T) {
	t.Parallel() // its own Vault; most of it waits for the tokens' expiry
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	_, u, profile, _, _, rec := loginWithVaultDown(t, ctx, "stopped")
	if rec.Vault != nil || !rec.Nomad.Direct() || !rec.Consul.Direct() {
		t.Fatalf("record after login: vault %v, nomad direct %v, consul direct %v", rec.Vault != nil, rec.Nomad.Direct(), rec.Consul.Direct())
	}
	firstNomad, firstConsul := rec.Nomad.Secret.Reveal(), rec.Consul.Secret.Reveal()
	checkDirectToken(t, ctx, store.Nomad, firstNomad, profile)
	checkDirectToken(t, ctx, store.Consul, firstConsul, profile)
	if from := statusFrom(t, u); from["nomad"] != "direct" || from["consul"] != "direct" {
		t.Errorf("status --json from: %v; want nomad and consul direct", from)
	}

	// A renewal (--min-ttl just under the TTL, once the tokens have less
	// left): a new direct login, quickly, though Vault never answers.
	testutil.WaitFor(t, 10*time.Second, "the login's tokens to have less than 59s left", func() bool {
		return time.Until(rec.Nomad.ExpiresAt) < 59*time.Second && time.Until(rec.Consul.ExpiresAt) < 59*time.Second
	})
	var tokens = map[store.Kind]string{}
	for _, k := range []store.Kind{store.Nomad, store.Consul} {
		tok, took := timedToken(t, u, k, "--min-ttl", "59s")
		if took > 5*time.Second {
			t.Errorf("token --for %s with Vault stopped took %s", k, took)
		}
		if tok == firstNomad || tok == firstConsul {
			t.Errorf("token --for %s gave the login's token, not a renewed one", k)
		}
		checkDirectToken(t, ctx, k, tok, profile)
		tokens[k] = tok
	}
	if !directRefused(ctx, store.Consul, firstConsul) {
		t.Errorf("the replaced Consul token is still accepted")
	}

	lo := u.ok(t, "logout")
	if !directRefused(ctx, store.Consul, tokens[store.Consul]) {
		t.Errorf("Consul accepts the token after logout")
	}
	if !strings.Contains(lo.stderr.String(), "lives until it expires") {
		t.Errorf("logout does not say the Nomad token lives until its expiry:\n%s", lo.stderr.String())
	}

	// Both Nomad tokens are refused once past their expiry.
	for _, tok := range []string{firstNomad, tokens[store.Nomad]} {
		var self aclSelf
		if err := stack.Nomad.Client().WithToken(secret.New(tok)).Do(ctx, "GET", "/v1/acl/token/self", nil, &self); err != nil || self.ExpirationTime == nil {
			t.Fatalf("Nomad's self lookup of a direct token: %v, expiry %v", err, self.ExpirationTime)
		}
		testutil.WaitFor(t, directTTL+30*time.Second, "Nomad to refuse the expired token", func() bool {
			return time.Now().After(*self.ExpirationTime) && directRefused(ctx, store.Nomad, tok)
		})
	}
}

// TestDirectLoginWhenVaultSealed: with the profile's Vault sealed,
// `login` and `token` get Nomad and Consul tokens from their direct
// login; once Vault is unsealed, the next renewal uses Vault again, and
// status says so.
func TestDirectLoginWhenVaultSealed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	v, u, profile, _, _, rec := loginWithVaultDown(t, ctx, "sealed")
	testutil.WaitFor(t, 10*time.Second, "the login's tokens to have less than 59s left", func() bool {
		return time.Until(rec.Nomad.ExpiresAt) < 59*time.Second && time.Until(rec.Consul.ExpiresAt) < 59*time.Second
	})
	for _, k := range []store.Kind{store.Nomad, store.Consul} {
		tok, took := timedToken(t, u, k, "--min-ttl", "59s")
		if took > 5*time.Second {
			t.Errorf("token --for %s with Vault sealed took %s", k, took)
		}
		checkDirectToken(t, ctx, k, tok, profile)
	}
	if from := statusFrom(t, u); from["nomad"] != "direct" || from["consul"] != "direct" || from["vault"] != "" {
		t.Errorf("status --json from: %v; want nomad and consul direct, no vault token", from)
	}
	// The agent hands the tools gates and forwards with the direct
	// tokens (the real nomad and consul CLIs, through it).
	u.env["PATH"] = teststack.BinDir() + string(os.PathListSeparator) + u.env["PATH"]
	u.agentDir(t)
	t.Cleanup(func() { u.run(t, "agent", "stop") })
	for _, args := range [][]string{{"nomad", "job", "status"}, {"consul", "catalog", "services"}} {
		a := u.run(t, append([]string{"exec", "--agent", "--for", "nomad,consul", "--"}, args...)...)
		if a.code() != 0 {
			t.Errorf("%v through the agent with direct tokens: exit %d\n%s", args, a.code(), a.stderr.String())
		}
	}

	// While Vault is sealed, a Vault token is refused quickly.
	q := u.run(t, "token", "--for", "vault")
	if q.code() == 0 || !strings.Contains(q.stderr.String(), "sealed") {
		t.Errorf("token --for vault with Vault sealed: exit %d, stderr %q", q.code(), q.stderr.String())
	}

	if err := v.Unseal(ctx); err != nil {
		t.Fatal(err)
	}
	// Once the failure is no longer remembered, the next renewal goes to
	// Vault: a Vault login, with Nomad and Consul tokens minted there.
	waitVaultRenewal(t, u)
	rec = mustRecord(t, u, profile)
	if rec.Vault == nil || rec.Nomad.Direct() || rec.Consul.Direct() || rec.Nomad.LeaseID == "" {
		t.Errorf("after Vault came back: vault token %v, nomad direct %v, consul direct %v", rec.Vault != nil, rec.Nomad.Direct(), rec.Consul.Direct())
	}
	if from := statusFrom(t, u); from["vault"] != "vault" || from["nomad"] != "vault" || from["consul"] != "vault" {
		t.Errorf("status --json from after Vault came back: %v; want vault for all", from)
	}
}
