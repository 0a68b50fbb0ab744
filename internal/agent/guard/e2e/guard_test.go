package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/agent/guard"
	"github.com/alisw/alilogin/internal/store"
	"github.com/alisw/alilogin/internal/teststack"
)

// get sends a GET with the token header to addr+path as written (its
// escapes kept on the wire) and returns status and body.
func get(t *testing.T, addr, path, header, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(header, token)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// childToken is a renewable Vault token of the default policy: what a
// profile's token looks like to the proxy (not root, so renew-self
// answers with it).
func childToken(t *testing.T) string {
	t.Helper()
	var out struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	err := stack.Vault.Client().Do(context.Background(), "POST", "/v1/auth/token/create",
		map[string]any{"policies": []string{"default"}, "ttl": "1h", "renewable": true}, &out)
	if err != nil || out.Auth.ClientToken == "" {
		t.Fatalf("token create: %v", err)
	}
	return out.Auth.ClientToken
}

// The servers act on the decoded path, as the guard's path rule says
// (guard/path.go): Vault serves an escaped "/" and Nomad and Consul an
// escaped letter, so the guard must decide on the decoded path; Vault
// matches case-sensitively and keeps a trailing slash.
func TestServersActOnTheDecodedPath(t *testing.T) {
	vault := childToken(t)
	code, body := get(t, stack.Vault.Addr, "/v1/auth%2ftoken%2flookup-self", "X-Vault-Token", vault)
	if code != 200 || !strings.Contains(body, vault) {
		t.Errorf("Vault, escaped slashes: %d (want 200 with the token: it serves auth/token/lookup-self)", code)
	}
	for _, p := range []string{"/v1/auth/token/LOOKUP-SELF", "/v1/auth/token/lookup-self/"} {
		// Not served: 403 for this token's policy, 404 for root.
		if code, body := get(t, stack.Vault.Addr, p, "X-Vault-Token", vault); code == 200 || strings.Contains(body, vault) {
			t.Errorf("Vault %s: %d, want it not served", p, code)
		}
	}
	p := guardProxy(t, store.Vault, stack.Vault.Addr, "X-Vault-Token", vault, guard.Rules{})
	if code, body := get(t, p, "/v1/auth%2ftoken%2flookup-self", "X-Vault-Token", "gate"); code != 400 || strings.Contains(body, vault) {
		t.Errorf("through the guard: %d %s, want 400", code, body)
	}
	for _, s := range []struct {
		name         string
		server       store.Kind
		addr, header string
		token        string
	}{
		{"nomad", store.Nomad, stack.Nomad.Addr, "X-Nomad-Token", stack.Nomad.ManagementToken},
		{"consul", store.Consul, stack.Consul.Addr, "X-Consul-Token", stack.Consul.ManagementToken},
	} {
		code, body := get(t, s.addr, "/v1/acl/token/%73elf", s.header, s.token)
		if code != 200 || !strings.Contains(body, s.token) {
			t.Errorf("%s serves /v1/acl/token/%%73elf: %d, want 200 with the SecretID", s.name, code)
		}
		p := guardProxy(t, s.server, s.addr, s.header, s.token, guard.Rules{})
		code, body = get(t, p, "/v1/acl/token/%73elf", s.header, "gate")
		if code != 200 || strings.Contains(body, s.token) || !strings.Contains(body, "AccessorID") {
			t.Errorf("%s through the guard: %d %s", s.name, code, body)
		}
	}
}

// cli runs a real CLI of the stack with env (and nothing of the test's
// environment but PATH), and returns its exit code and output.
func cli(t *testing.T, name string, env []string, args ...string) (int, string) {
	t.Helper()
	bin, err := teststack.Bin(name)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "CHECKPOINT_DISABLE=1"}, env...)
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		code = ee.ExitCode()
	}
	return code, string(out)
}

// The real CLIs through the guard: the token commands print no real
// token, and the commands that would make one are refused.
func TestCLIsGetNoRealTokenThroughTheGuard(t *testing.T) {
	vault := childToken(t)
	nomad, consul := stack.Nomad.ManagementToken, stack.Consul.ManagementToken
	vp := guardProxy(t, store.Vault, stack.Vault.Addr, "X-Vault-Token", vault, guard.Rules{})
	np := guardProxy(t, store.Nomad, stack.Nomad.Addr, "X-Nomad-Token", nomad, guard.Rules{})
	cp := guardProxy(t, store.Consul, stack.Consul.Addr, "X-Consul-Token", consul, guard.Rules{})
	env := []string{"VAULT_ADDR=" + vp, "VAULT_TOKEN=gate-vault", "NOMAD_ADDR=" + np, "NOMAD_TOKEN=00000000-0000-4000-8000-000000000001",
		"CONSUL_HTTP_ADDR=" + strings.TrimPrefix(cp, "http://"), "CONSUL_HTTP_TOKEN=00000000-0000-4000-8000-000000000002"}
	secrets := []string{vault, nomad, consul, stack.Vault.RootToken}
	for _, c := range []struct {
		cli  string
		args []string
		ok   bool // exit 0 expected; else refused, with "refused" in the output
	}{
		{"vault", []string{"token", "lookup"}, true},
		{"vault", []string{"token", "lookup", "-format=json"}, true},
		{"vault", []string{"token", "renew"}, true},
		{"vault", []string{"token", "create", "-policy=default"}, false},
		{"vault", []string{"read", "-wrap-ttl=5m", "sys/mounts"}, false},
		{"vault", []string{"read", "nomad/creds/ci"}, false},
		{"nomad", []string{"acl", "token", "self"}, true},
		{"nomad", []string{"acl", "token", "list"}, true},
		{"nomad", []string{"acl", "token", "list", "-json"}, true},
		{"nomad", []string{"ui", "-authenticate", "-show-url"}, false},
		{"nomad", []string{"operator", "snapshot", "save", filepath.Join(t.TempDir(), "snap")}, false},
		{"consul", []string{"acl", "token", "read", "-self"}, true},
		{"consul", []string{"acl", "token", "list"}, true},
		{"consul", []string{"acl", "token", "list", "-format=json"}, true},
		{"consul", []string{"snapshot", "save", filepath.Join(t.TempDir(), "snap")}, false},
	} {
		t.Run(c.cli+" "+strings.Join(c.args, " "), func(t *testing.T) {
			code, out := cli(t, c.cli, env, c.args...)
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Fatalf("a real token in the output:\n%s", out)
				}
			}
			if c.ok && code != 0 {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			if !c.ok && (code == 0 || !strings.Contains(out, "refused")) {
				t.Fatalf("exit %d, want refused:\n%s", code, out)
			}
		})
	}
}

// Read-only routes against the real servers and CLIs: reads work, writes
// are refused with the hint, and the server was not changed.
func TestReadOnlyThroughTheGuard(t *testing.T) {
	ctx := context.Background()
	if err := stack.PutKV(ctx, "secret", 2, "guard/ro", map[string]any{"v": "before"}); err != nil {
		t.Fatal(err)
	}
	if err := stack.Consul.Client().Do(ctx, "PUT", "/v1/kv/guard/ro", "before", nil); err != nil { // stored JSON-encoded
		t.Fatal(err)
	}
	hint := "run: alilogin elevate --profile ci"
	rules := guard.Rules{ReadOnly: true, ReadOnlyHint: hint}
	vp := guardProxy(t, store.Vault, stack.Vault.Addr, "X-Vault-Token", stack.Vault.RootToken, rules)
	np := guardProxy(t, store.Nomad, stack.Nomad.Addr, "X-Nomad-Token", stack.Nomad.ManagementToken, rules)
	cp := guardProxy(t, store.Consul, stack.Consul.Addr, "X-Consul-Token", stack.Consul.ManagementToken, rules)
	env := []string{"VAULT_ADDR=" + vp, "VAULT_TOKEN=gate-vault", "NOMAD_ADDR=" + np, "NOMAD_TOKEN=00000000-0000-4000-8000-000000000001",
		"CONSUL_HTTP_ADDR=" + strings.TrimPrefix(cp, "http://"), "CONSUL_HTTP_TOKEN=00000000-0000-4000-8000-000000000002"}
	job := filepath.Join(t.TempDir(), "ro.nomad.hcl")
	if err := os.WriteFile(job, []byte(`job "guard-ro" {
  datacenters = ["*"]
  type = "batch"
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/true"
      }
    }
  }
}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cli  string
		args []string
		ok   bool
	}{
		{"vault", []string{"kv", "get", "-mount=secret", "guard/ro"}, true},
		{"vault", []string{"kv", "list", "secret/guard"}, true},
		{"vault", []string{"token", "lookup"}, true},
		{"vault", []string{"kv", "put", "-mount=secret", "guard/ro", "v=after"}, false},
		{"nomad", []string{"status"}, true},
		{"nomad", []string{"job", "plan", job}, true}, // exit 1: changes planned
		{"nomad", []string{"job", "run", job}, false},
		{"consul", []string{"kv", "get", "guard/ro"}, true},
		{"consul", []string{"catalog", "services"}, true},
		{"consul", []string{"kv", "put", "guard/ro", "after"}, false},
	} {
		t.Run(c.cli+" "+strings.Join(c.args, " "), func(t *testing.T) {
			code, out := cli(t, c.cli, env, c.args...)
			planned := c.cli == "nomad" && len(c.args) > 1 && c.args[1] == "plan" && code == 1
			if c.ok && code != 0 && !planned {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			if !c.ok && (code == 0 || !strings.Contains(out, hint)) {
				t.Fatalf("exit %d, want refused with the hint:\n%s", code, out)
			}
		})
	}
	var kv struct {
		Data struct {
			Data map[string]string `json:"data"`
		} `json:"data"`
	}
	if err := stack.Vault.Client().Do(ctx, "GET", "/v1/secret/data/guard/ro", nil, &kv); err != nil || kv.Data.Data["v"] != "before" {
		t.Errorf("Vault value changed: %v %v", kv, err)
	}
	if code, body := get(t, stack.Consul.Addr, "/v1/kv/guard/ro?raw", "X-Consul-Token", stack.Consul.ManagementToken); code != 200 || body != `"before"` {
		t.Errorf("Consul value changed: %d %s", code, body)
	}
	if code, _ := get(t, stack.Nomad.Addr, "/v1/job/guard-ro", "X-Nomad-Token", stack.Nomad.ManagementToken); code != 404 {
		t.Errorf("the job was registered: %d", code)
	}
}

// Vault's engines mint on routes whose mount the guard is not told: a
// second nomad engine mounted two segments deep gives a real Nomad token
// on GET creds/R, a second PKI mount issues a certificate on a write
// (its GET is 405, so the guard refuses only writes there), and PKI's
// GET crl/rotate changes state. Measured on the real Vault first, then
// refused through the guard.
func TestVaultMintingRoutesAtAnyMount(t *testing.T) {
	ctx := context.Background()
	if err := stack.EnableNomadEngine(ctx, "team/nomad-ci"); err != nil {
		t.Fatal(err)
	}
	c := stack.Vault.Client()
	if err := c.Do(ctx, "POST", "/v1/team/nomad-ci/role/ci", map[string]any{"type": "management"}, nil); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, stack.Vault.Addr, "/v1/team/nomad-ci/creds/ci", "X-Vault-Token", stack.Vault.RootToken); code != 200 || !strings.Contains(body, `"secret_id"`) {
		t.Fatalf("the real Vault at team/nomad-ci/creds/ci: %d %s, want a minted Nomad token", code, body)
	}
	if _, err := stack.EnablePKI(ctx, "pki-other"); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, stack.Vault.Addr, "/v1/pki-other/issue/alilogin-test-server", "X-Vault-Token", stack.Vault.RootToken); code != http.StatusMethodNotAllowed {
		t.Fatalf("the real Vault at GET pki-other/issue/R: %d %s, want 405", code, body)
	}
	if code, body := get(t, stack.Vault.Addr, "/v1/pki-other/crl/rotate", "X-Vault-Token", stack.Vault.RootToken); code != 200 {
		t.Fatalf("the real Vault at GET pki-other/crl/rotate: %d %s, want 200 (a CRL rebuilt)", code, body)
	}
	hint := "run: alilogin elevate --profile ci"
	rw := guardProxy(t, store.Vault, stack.Vault.Addr, "X-Vault-Token", stack.Vault.RootToken, guard.Rules{})
	ro := guardProxy(t, store.Vault, stack.Vault.Addr, "X-Vault-Token", stack.Vault.RootToken, guard.Rules{ReadOnly: true, ReadOnlyHint: hint})
	for _, c := range []struct {
		proxy string
		args  []string
		want  string
	}{
		{rw, []string{"read", "team/nomad-ci/creds/ci"}, "refused"},
		{rw, []string{"write", "pki-other/issue/alilogin-test-server", "common_name=localhost"}, "refused"},
		{ro, []string{"read", "team/nomad-ci/creds/ci"}, "refused"},
		{ro, []string{"read", "pki-other/crl/rotate"}, hint},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out := cli(t, "vault", []string{"VAULT_ADDR=" + c.proxy, "VAULT_TOKEN=gate-vault"}, c.args...)
			if code == 0 || !strings.Contains(out, c.want) || strings.Contains(out, stack.Vault.RootToken) {
				t.Fatalf("exit %d, want refused (%q):\n%s", code, c.want, out)
			}
		})
	}
}
