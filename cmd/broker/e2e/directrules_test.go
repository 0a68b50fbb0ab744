package e2e

import (
	"context"
	"strings"
	"testing"
)

// TestCaseVariantRuleInManagedConsulMethodIsConflict: Consul 1.16 finds
// an auth method's binding rules by the method's name without case (its
// memdb index lowercases AuthMethod), and keeps a rule's AuthMethod as
// written. A hand-made rule written for "ALILOGIN-CI-USER" therefore binds
// at every login to the broker's method alilogin-ci-user, as a rule
// written for "alilogin-ci-user" does: plan must name it as a conflict
// (docs/security.md: a rule without the broker's marker inside a method
// the broker owns is a conflict).
func TestCaseVariantRuleInManagedConsulMethodIsConflict(t *testing.T) {
	dir := appliedDirectPolicies(t)
	// By hand: a role with a write policy, bound by a rule in the
	// broker's method spelled in capitals.
	mustDo(t, consulC, "PUT", "/v1/acl/role", map[string]any{"Name": "ops-kv-write", "Description": "by hand",
		"Policies": []map[string]string{{"Name": "ci-service-kv-write"}}}, nil)
	var rule struct{ ID, AuthMethod string }
	mustDo(t, consulC, "PUT", "/v1/acl/binding-rule", map[string]string{"AuthMethod": "ALILOGIN-CI-USER", "BindType": "role",
		"BindName": "ops-kv-write", "Description": "by hand"}, &rule)
	t.Logf("Consul stored the hand-made rule %s with AuthMethod %q", rule.ID, rule.AuthMethod)

	// What the rule does: alice, who holds only alice-ci-users, gets the
	// hand-made role from the broker's method.
	ct, err := consulLogin("alilogin-ci-user", idToken(t, stack.Hydra.ClientID, "alice"))
	if err != nil {
		t.Fatalf("Consul refused alice at alilogin-ci-user: %v", err)
	}
	var roles []string
	for _, r := range ct.Roles {
		roles = append(roles, r.Name)
	}
	t.Logf("alice's token from the broker's method alilogin-ci-user has roles %v", roles)

	code, out, _ := broker(t, "plan", dir)
	want := `! conflict: consul acl binding rule "alilogin-ci-user/id ` + rule.ID + `"`
	if code != exitError || !strings.Contains(out, want) {
		t.Errorf("plan: exit %d, want %d and %s; it said:\n%s", code, exitError, want, out)
	}
}

// TestCaseVariantRuleInManagedConsulMethodSurvivesPrune: a hand-made
// binding rule that Consul counts as inside the broker's method (its
// AuthMethod in another case) is never deleted, and neither is its
// method: apply --prune of a profile whose direct login is turned off
// refuses, as for a rule written with the method's exact name
// (docs/security.md). Deleting a Consul auth method deletes every rule
// Consul counts as its own.
func TestCaseVariantRuleInManagedConsulMethodSurvivesPrune(t *testing.T) {
	dir := appliedDirectPolicies(t)
	var rule struct{ ID string }
	mustDo(t, consulC, "PUT", "/v1/acl/binding-rule", map[string]string{"AuthMethod": "Alilogin-CI-User", "BindType": "node",
		"BindName": "build-host", "Description": "by hand"}, &rule)
	off := strings.Replace(readFile(t, dir+"/profiles.hcl"), `profile "ci-user" {`, "profile \"ci-user\" {\n  direct_login = \"off\"", 1)
	writeFile(t, dir+"/profiles.hcl", off)
	if code, _, _ := broker(t, "apply", "--auto-approve", "--prune", dir); code != exitError {
		t.Errorf("apply --prune with a hand-made rule in the broker's method: exit %d, want %d", code, exitError)
	}
	if err := consulC.Do(context.Background(), "GET", "/v1/acl/binding-rule/"+rule.ID, nil, nil); err != nil {
		t.Errorf("the hand-made Consul rule %s is gone after apply --prune: %v", rule.ID, err)
	}
}
