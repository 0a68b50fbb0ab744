package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/teststack"
	"github.com/alisw/alilogin/internal/testutil"
)

var jobSpec = filepath.Join(repoRoot, "docs", "deploy", "broker.nomad.hcl")

func nomadCLI(t *testing.T, addr, token string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(stack.Nomad.Bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "NOMAD_ADDR=" + addr, "NOMAD_TOKEN=" + token}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// startNomadAgent starts a second Nomad dev agent, wired to the stack's
// Consul (service registration and checks) and Vault (the task's token),
// with raw_exec, to run the broker job as Nomad would in production.
func startNomadAgent(t *testing.T) string {
	t.Helper()
	ports := make([]int, 3)
	for i := range ports {
		p, err := teststack.FreePort()
		must(t, err)
		ports[i] = p
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`
data_dir = %q
disable_update_check = true
ports {
  http = %d
  rpc  = %d
  serf = %d
}
plugin "raw_exec" {
  config { enabled = true }
}
consul {
  address = %q
  token   = %q
}
vault {
  enabled = true
  address = %q
  token   = %q
}
`, filepath.Join(dir, "data"), ports[0], ports[1], ports[2], strings.TrimPrefix(stack.Consul.Addr, "http://"),
		stack.Consul.ManagementToken, stack.Vault.Addr, stack.Vault.RootToken)
	must(t, os.WriteFile(filepath.Join(dir, "agent.hcl"), []byte(cfg), 0o600))
	log, err := os.Create(filepath.Join(dir, "nomad.log"))
	must(t, err)
	cmd := exec.Command(stack.Nomad.Bin, "agent", "-dev", "-bind=127.0.0.1", "-network-interface=lo", "-config="+filepath.Join(dir, "agent.hcl"))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "NOMAD_ADDR=", "NOMAD_TOKEN="}
	cmd.Stdout, cmd.Stderr = log, log
	must(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	addr := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	t.Cleanup(func() {
		_, _ = nomadCLI(t, addr, "", "job", "stop", "-purge", "alilogin-broker")
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "nomad.log"))
			if len(b) > 20000 {
				b = b[len(b)-20000:]
			}
			t.Logf("===== job agent log =====\n%s", b)
		}
	})
	c, err := apiclient.New("Nomad", addr, "X-Nomad-Token", apiclient.TLS{}, 10*time.Second)
	must(t, err)
	testutil.WaitFor(t, time.Minute, "the job agent's client node", func() bool {
		var nodes []struct{ Status string }
		return c.Do(context.Background(), "GET", "/v1/nodes", nil, &nodes) == nil && len(nodes) == 1 && nodes[0].Status == "ready"
	})
	return addr
}

// TestJobSpec validates the job spec with its default variables using the
// stack's own `nomad job validate` (against an agent with Vault enabled:
// the spec has a vault block), then runs the job spec (two instances, raw_exec, the broker
// binary and a policies folder from the host) on a Nomad agent wired to the
// stack, with the least-privilege policies of docs/deploy and tokens from
// Vault, and checks that both instances register healthy in Consul and
// exactly one leads.
func TestJobSpec(t *testing.T) {
	setup(t)
	ctx := context.Background()
	v, c := stack.Vault.Client(), stack.Consul.Client()
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(repoRoot, p))
		must(t, err)
		return string(b)
	}
	// The broker's least-privilege policies, as operations.md sets them up.
	must(t, v.Do(ctx, "PUT", "/v1/sys/policies/acl/alilogin-broker", map[string]any{"policy": read("docs/broker-vault-policy.hcl")}, nil))
	must(t, v.Do(ctx, "PUT", "/v1/sys/policies/acl/alilogin-broker-serve", map[string]any{"policy": read("docs/deploy/vault-broker-serve.hcl")}, nil))
	var pol struct{ ID string }
	err := c.Do(ctx, "PUT", "/v1/acl/policy", map[string]any{"Name": "alilogin-broker", "Rules": read("docs/deploy/consul-broker.hcl")}, &pol)
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	must(t, v.Do(ctx, "POST", "/v1/nomad/role/alilogin-broker", map[string]any{"type": "management"}, nil))
	must(t, v.Do(ctx, "POST", "/v1/consul/roles/alilogin-broker", map[string]any{"consul_policies": []string{"alilogin-broker"}}, nil))

	agent := startNomadAgent(t)
	out, err := nomadCLI(t, agent, "", "job", "validate", jobSpec)
	if err != nil || !strings.Contains(out, "Job validation successful") {
		t.Fatalf("nomad job validate: %v\n%s", err, out)
	}

	dir := policiesDir(t, map[string]string{})
	out, err = nomadCLI(t, agent, "", "job", "run", "-detach",
		"-var", "driver=raw_exec", "-var", "artifact_url=", "-var", "binary="+brokerBin,
		"-var", "policies_source=", "-var", "policies_dir="+dir, "-var", "distinct_hosts=false",
		"-var", "vault_addr="+stack.Vault.Addr, "-var", "nomad_addr="+stack.Nomad.Addr,
		"-var", "consul_addr="+stack.Consul.Addr, "-var", "interval=10s", jobSpec)
	if err != nil {
		t.Fatalf("nomad job run: %v\n%s", err, out)
	}
	type health struct {
		Service struct {
			Address string
			Port    int
		}
		Checks []struct{ Status, ServiceName, Output string }
	}
	var entries []health
	testutil.WaitFor(t, 2*time.Minute, "two healthy instances in Consul", func() bool {
		entries = nil
		if err := c.Do(ctx, "GET", "/v1/health/service/alilogin-broker?passing=true", nil, &entries); err != nil {
			return false
		}
		return len(entries) == 2
	})
	leaders := 0
	for _, e := range entries {
		resp, err := http.Get(fmt.Sprintf("http://%s:%d/readyz", e.Service.Address, e.Service.Port))
		must(t, err)
		var st struct{ Leader bool }
		_ = decodeJSON(resp, &st)
		if st.Leader {
			leaders++
		}
	}
	if leaders != 1 {
		t.Errorf("%d leaders among the job's instances", leaders)
	}
	// With the least-privilege Consul token, each instance could register
	// its liveness check (else takeover falls back to the session TTL).
	var alive []struct {
		Service struct{ Meta map[string]string }
	}
	must(t, c.Do(ctx, "GET", "/v1/health/service/alilogin-broker-lock?passing=true", nil, &alive))
	// Counted by instance: a task restarted in its allocation (same
	// identity) registers anew while its old check's TTL still runs.
	ids := map[string]bool{}
	for _, a := range alive {
		if a.Service.Meta["key"] == "alilogin/broker/lock" { // the job's lock, not other tests'
			ids[a.Service.Meta["identity"]] = true
		}
	}
	if len(ids) != 2 {
		t.Errorf("liveness checks passing for %d instances of the job (%v), want 2", len(ids), ids)
	}
	// The leader works with the leased tokens: the ALICE policies are in Nomad.
	testutil.WaitFor(t, 30*time.Second, "the job's broker to apply the policies", func() bool {
		var p struct{ Rules string }
		return stack.Nomad.Client().Do(ctx, "GET", "/v1/acl/policy/ci-submit-jobs", nil, &p) == nil && p.Rules != ""
	})
}
