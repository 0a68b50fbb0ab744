package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/teststack"
)

// TestExecNomadJobRunCarriesNoOtherToken: the real nomad CLI's `job run`
// copies VAULT_TOKEN and CONSUL_HTTP_TOKEN from its environment into the
// job it submits (and `-output` prints that job): `alilogin exec -- nomad
// job run` without --for gives it only the Nomad token, so neither the
// Vault nor the Consul token reaches the job; with --for nomad,vault the
// Vault token does, as asked.
func TestExecNomadJobRunCarriesNoOtherToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, _ := kvUser(t, ctx, "nomadjob-users")
	vaultTok := tokenOut(u.ok(t, "token", "--for", "vault"))
	consulTok := tokenOut(u.ok(t, "token", "--for", "consul"))
	u.env["PATH"] = teststack.BinDir() + ":" + os.Getenv("PATH")
	job := writeTestFile(t, t.TempDir(), "web.nomad.hcl", []byte(`job "web" {
  datacenters = ["dc1"]
  group "g" {
    task "t" {
      driver = "raw_exec"
      config { command = "/bin/true" }
    }
  }
}
`))
	p := u.run(t, "exec", "--", "nomad", "job", "run", "-output", job)
	out := p.stdout.String()
	if p.code() != 0 || !strings.Contains(out, `"Job"`) {
		t.Fatalf("exec -- nomad job run -output: exit %d\n%s\n%s", p.code(), out, p.stderr.String())
	}
	if strings.Contains(out, vaultTok) {
		t.Errorf("`exec -- nomad job run -output` printed the Vault token (the job Nomad would get holds it)")
	}
	if strings.Contains(out, consulTok) {
		t.Errorf("`exec -- nomad job run -output` printed the Consul token (the job Nomad would get holds it)")
	}
	p = u.run(t, "exec", "--for", "nomad,vault", "--", "nomad", "job", "run", "-output", job)
	if p.code() != 0 || !strings.Contains(p.stdout.String(), vaultTok) {
		t.Errorf("--for nomad,vault: exit %d; the job lacks the Vault token that was asked for", p.code())
	}
}
