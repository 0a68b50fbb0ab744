package e2e

import (
	"slices"
	"strings"
	"testing"
)

// TestNomadPolicyTakenFromProfileIsNoLongerGrantedByDirectLogin: taking
// a Nomad policy out of a profile and running apply (without --prune)
// narrows what the profile grants through Vault at once (the nomad role's
// policies are an update); the direct login must narrow too. A Nomad
// binding rule per policy makes the narrowing a delete of a rule, which
// waits for --prune: until then every user of the profile logging in at
// Nomad directly still gets the policy the files no longer give.
func TestNomadPolicyTakenFromProfileIsNoLongerGrantedByDirectLogin(t *testing.T) {
	dir := appliedDirectPolicies(t)
	p := readFile(t, dir+"/profiles.hcl")
	narrowed := strings.Replace(p, `nomad_policies  = ["ci-read-jobs", "ci-submit-jobs"]`, `nomad_policies  = ["ci-read-jobs"]`, 1)
	if narrowed == p {
		t.Fatal("ci-admin's nomad_policies not found in profiles.hcl")
	}
	writeFile(t, dir+"/profiles.hcl", narrowed)
	if code, _, _ := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Fatalf("apply of the narrowed profile: exit %d", code)
	}

	var role struct {
		Data struct{ Policies []string } `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/nomad/role/ci-admin", nil, &role)
	t.Logf("through Vault, ci-admin now grants Nomad policies %v", role.Data.Policies)

	nt, err := nomadLogin("alilogin-ci-admin", idToken(t, stack.Hydra.ClientID, "carol"))
	if err != nil {
		t.Fatalf("Nomad refused carol at alilogin-ci-admin: %v", err)
	}
	if slices.Contains(nt.Policies, "ci-submit-jobs") {
		t.Errorf("after apply of ci-admin without ci-submit-jobs, Nomad's direct login still gives carol %v", nt.Policies)
	}
}
