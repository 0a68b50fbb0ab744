package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/serve"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

// directAlwaysSetup is directSetup with the profile's direct_login
// "always".
func directAlwaysSetup(t *testing.T, ctx context.Context) (*teststack.Vault, *user, string) {
	t.Helper()
	v, err := stack.StartVault(ctx, teststack.VaultOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Continue(); v.Kill() })
	if err := stack.EnsureMounts(ctx, v, teststack.Mounts{}); err != nil {
		t.Fatal(err)
	}
	dir := directPolicies(t)
	pf := filepath.Join(dir, "profiles.hcl")
	b, err := os.ReadFile(pf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pf, []byte(strings.Replace(string(b), `"fallback"`, `"always"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
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
	u.env["ALILOGIN_BROKER"] = "http://127.0.0.1:1"
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

// TestTokenAnswersQuicklyWithVaultStoppedInAlwaysMode: with a profile
// whose direct login is "always" and Vault stopped (SIGSTOP: it accepts
// connections and never answers), a renewal that needs Vault answers
// within a few seconds, as in "fallback" mode (the short probe,
// remembered), not after the client's timeout on every call.
func TestTokenAnswersQuicklyWithVaultStoppedInAlwaysMode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	v, u, profile := directAlwaysSetup(t, ctx)
	name, pw := newUserAccount("ci-users")
	if p, _ := login(t, ctx, u, name, pw, "--profile", profile); p.code() != 0 {
		t.Fatalf("login: exit %d; stderr:\n%s", p.code(), p.stderr.String())
	}
	rec, err := getRecord(t, u, profile)
	if err != nil || rec.Vault == nil {
		t.Fatalf("record after login: %v", err)
	}
	testutil.WaitFor(t, 10*time.Second, "the Vault token to have less than 59s left", func() bool {
		return time.Until(rec.Vault.ExpiresAt) < 59*time.Second
	})
	if err := v.Stop(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		t0 := time.Now()
		p := u.run(t, "token", "--for", "vault", "--min-ttl", "59s")
		t.Logf("call %d: exit %d in %s: %s", i+1, p.code(), time.Since(t0), p.stderr.String())
		if took := time.Since(t0); took > 5*time.Second {
			t.Errorf("token --for vault (call %d) with Vault stopped took %s (exit %d)", i+1, took, p.code())
		}
	}
}
