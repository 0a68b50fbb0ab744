package apply

import (
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/plan"
)

// TestWarnings: each finding of a run becomes one warning that says what
// is wrong and what to do: a system not read (and, with the broker's
// roles still in Vault, that apply --prune refuses), Vault's default
// policy open or unreadable (with the exact text to add), a managed policy
// with a reserved name; nothing when all is well.
func TestWarnings(t *testing.T) {
	consulRoles := []plan.Key{{Kind: plan.ConsulRole, Name: "ci"}}
	tests := []struct {
		name string
		res  Result
		want []string // substrings, one per warning, in order
	}{
		{"nothing", Result{DefaultPolicy: plan.CheckDefaultPolicy(plan.DefaultPolicyLeaseDeny([]string{"nomad"}), []string{"nomad"})}, nil},
		{"Consul not read", Result{Unread: []Unread{{System: plan.Consul}}},
			[]string{"Consul was not read (CONSUL_HTTP_ADDR or CONSUL_HTTP_TOKEN not set): the Consul ACL policies the broker made there, if any, are neither checked nor deleted by --prune"}},
		{"Nomad not read, roles left", Result{Unread: []Unread{{System: plan.Nomad, Evidence: []plan.Key{{Kind: plan.NomadRole, Name: "ci"}}}}},
			[]string{`Nomad was not read (NOMAD_ADDR or NOMAD_TOKEN not set)`, `Vault still has the broker's vault nomad role "ci"), so apply --prune refuses until Nomad is read`}},
		{"default policy open", Result{DefaultPolicy: plan.CheckDefaultPolicy(`path "sys/renew" { capabilities = ["update"] }`, []string{"nomad"})},
			[]string{"Vault's default policy lets every token renew the leases of the profiles' Nomad and Consul tokens by lease id (sys/renew for nomad/creds/*)", plan.DefaultPolicyLeaseDeny([]string{"nomad"})}},
		{"default policy unreadable", Result{DefaultPolicy: plan.CheckDefaultPolicy(`path "sys/renew" {`, []string{"consul"})},
			[]string{"could not check Vault's default policy (could not parse the policy", plan.DefaultPolicyLeaseDeny([]string{"consul"})}},
		{"reserved name", Result{Plan: plan.Plan{Reserved: []plan.ReservedObject{{Kind: plan.NomadPolicy, Name: "anonymous", Why: "w", Deleted: true}}}},
			[]string{`the broker's nomad acl policy "anonymous" has a reserved name (w): it is a hole the broker made before such names were refused, and apply deletes it, with or without --prune`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Warnings(tc.res)
			n := 1
			if len(tc.want) == 0 {
				n = 0
			}
			if len(got) != n {
				t.Fatalf("%d warnings, want %d: %q", len(got), n, got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got[0], w) {
					t.Errorf("warning %q lacks %q", got[0], w)
				}
			}
		})
	}
	e := (&UnreadError{Unread: []Unread{{System: plan.Consul, Evidence: consulRoles}}}).Error()
	for _, w := range []string{"refusing to prune; nothing was changed", `Vault still has the broker's vault consul role "ci"`, "Set CONSUL_HTTP_ADDR (or the address in the consul block of broker.hcl) and CONSUL_HTTP_TOKEN"} {
		if !strings.Contains(e, w) {
			t.Errorf("UnreadError %q lacks %q", e, w)
		}
	}
}
