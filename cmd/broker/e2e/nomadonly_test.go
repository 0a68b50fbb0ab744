package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/issue"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/store"
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
	tok, err := issue.Mint(context.Background(), vaultLogin(t, "carol", "ci-admin"), store.Nomad, issue.Target{Mount: "nomad"}, "ci-admin", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var self struct{ Policies []string }
	mustDo(t, nomadC.WithToken(tok.Secret), "GET", "/v1/acl/token/self", nil, &self)
	if got := strings.Join(sortedCopy(self.Policies), ","); got != "ci-read-jobs,ci-submit-jobs" {
		t.Errorf("Nomad token policies %s", got)
	}
}

// TestNomadOnlyPruneRefusesWhileConsulHoldsWhatTheBrokerMade: a broker
// that used Consul becomes Nomad-only and runs without a Consul token (or
// without any CONSUL_* variable). Consul is then not read, so the Consul
// ACL policies the broker made there are neither checked nor deleted:
// plan and apply say so, and while Vault still has managed consul roles
// (the broker made things in Consul), apply --prune refuses, writes
// nothing and says what to set; given Consul, it deletes the Consul
// policies with the roles; after that a prune without Consul goes ahead,
// still saying that Consul was not read.
func TestNomadOnlyPruneRefusesWhileConsulHoldsWhatTheBrokerMade(t *testing.T) {
	setup(t)
	full := policiesDir(t, nil)
	mustApply(t, full)
	dir := policiesDir(t, map[string]string{"profiles.hcl": nomadOnlyProfiles})
	removeDir(t, dir, "consul")
	env := brokerEnv()
	without := func(prefix string) func(string) string {
		return func(k string) string {
			if strings.HasPrefix(k, prefix) {
				return ""
			}
			return env(k)
		}
	}
	const notRead = "warning: Consul was not read"
	for _, v := range []struct {
		name string
		env  func(string) string
	}{{"no Consul token", without("CONSUL_HTTP_TOKEN")}, {"no Consul at all", without("CONSUL_")}} {
		t.Run(v.name, func(t *testing.T) {
			code, out, stderr := brokerWith(t, v.env, nil, "plan", "--detailed-exitcode", "--prune", dir)
			if code != exitChanges || !strings.Contains(stderr, notRead) || !strings.Contains(out+stderr, "apply --prune refuses") {
				t.Errorf("plan --prune: exit %d; want 2 and %q, and that apply --prune refuses", code, notRead)
			}
			before := snapshot(t)
			code, _, stderr = brokerWith(t, v.env, nil, "apply", "--prune", "--allow-mass-delete", "--auto-approve", dir)
			if code != exitError || !strings.Contains(stderr, `consul role "ci-user"`) || !strings.Contains(stderr, "CONSUL_HTTP_TOKEN") {
				t.Errorf("apply --prune without Consul: exit %d, want 1 naming the consul roles and CONSUL_HTTP_TOKEN", code)
			}
			unchanged(t, before, "apply --prune without Consul")
		})
	}
	if code, _, _ := broker(t, "apply", "--prune", "--allow-mass-delete", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply --prune with Consul: exit %d", code)
	}
	if left := managedConsulPolicies(t); len(left) > 0 {
		t.Errorf("managed Consul policies left after apply --prune with Consul: %v", left)
	}
	code, _, stderr := brokerWith(t, without("CONSUL_"), nil, "apply", "--prune", "--auto-approve", dir)
	if code != exitOK || !strings.Contains(stderr, notRead) {
		t.Errorf("apply --prune without Consul once nothing of the broker's is left there: exit %d, want 0 and %q", code, notRead)
	}
}

// managedConsulPolicies lists the Consul policies with the broker's marker.
func managedConsulPolicies(t *testing.T) []string {
	t.Helper()
	var cp []struct{ Name, Description string }
	mustDo(t, consulC, "GET", "/v1/acl/policies", nil, &cp)
	var out []string
	for _, p := range cp {
		if strings.Contains(p.Description, plan.Marker) {
			out = append(out, p.Name)
		}
	}
	return out
}
