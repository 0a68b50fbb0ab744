package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/issue"
)

const nomadOnlyProfiles = `
profile "ci-user" {
  roles          = ["alice-ci-users", "alice-ci-admins"]
  vault_policies = ["ci-secrets-read"]
  nomad_policies = ["ci-read-jobs"]
}

profile "ci-admin" {
  roles          = ["alice-ci-admins"]
  vault_policies = ["ci-secrets-read", "ci-secrets-write"]
  nomad_policies = ["ci-read-jobs", "ci-submit-jobs"]
}
`

// TestNomadOnlyBrokerNeedsNoConsul: a broker whose policies grant no
// Consul (no policies/consul, no profile with consul_policies) plans and
// applies with neither a Consul address nor a Consul token, and with no
// consul secrets engine in Vault; its users then get Nomad tokens.
func TestNomadOnlyBrokerNeedsNoConsul(t *testing.T) {
	setup(t)
	dir := policiesDir(t, map[string]string{"profiles.hcl": nomadOnlyProfiles})
	removeDir(t, dir, "consul")
	writeFile(t, dir+"/broker.hcl", strings.Replace(readFile(t, dir+"/broker.hcl"), `consul_mount       = "consul"`, `consul_mount       = "no-consul-here"`, 1))
	env := brokerEnv()
	noConsul := func(k string) string {
		if strings.HasPrefix(k, "CONSUL_") {
			return ""
		}
		return env(k)
	}
	steps := []struct {
		args []string
		want int
	}{
		{[]string{"validate", dir}, exitOK},
		{[]string{"plan", "--detailed-exitcode", dir}, exitChanges},
		{[]string{"apply", "--auto-approve", dir}, exitOK},
		{[]string{"plan", dir}, exitOK},
	}
	for _, st := range steps {
		if code, _, stderr := brokerWith(t, noConsul, nil, st.args...); code != st.want {
			t.Fatalf("broker %s without Consul: exit %d, want %d: %s", st.args[0], code, st.want, stderr)
		}
	}
	var p struct{ Rules string }
	mustDo(t, nomadC, "GET", "/v1/acl/policy/ci-submit-jobs", nil, &p)
	if p.Rules == "" {
		t.Error("ci-submit-jobs not in Nomad after apply")
	}
	// A user of the Nomad-only profile gets a Nomad token with its policies.
	tok, err := issue.Mint(context.Background(), vaultLogin(t, "carol", "ci-admin"), issue.Nomad, issue.Target{Mount: "nomad"}, "ci-admin", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var self struct{ Policies []string }
	mustDo(t, nomadC.WithToken(tok.Secret), "GET", "/v1/acl/token/self", nil, &self)
	if got := strings.Join(sortedCopy(self.Policies), ","); got != "ci-read-jobs,ci-submit-jobs" {
		t.Errorf("Nomad token policies %s", got)
	}
}
