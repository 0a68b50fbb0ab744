package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/apiclient"
)

// Review finding: Vault compares identity group names without case, but the
// broker matches live groups to desired ones by exact name (and reads only
// names that start with the lowercase prefix). A hand-made group whose name
// differs from a desired one only in case is therefore neither read nor
// reported as a conflict: apply "creates" the desired group with
// POST identity/group/name/<name>, which Vault resolves to the hand-made
// group and updates in place — its policies and metadata are overwritten
// (the broker's marker replaces them, so it becomes "managed"), it is
// renamed, and its alias is moved onto the broker's JWT mount.
//
// Must: plan reports a conflict, and apply writes nothing to the group.
func TestCaseVariantGroupIsConflictNotTakenOver(t *testing.T) {
	setup(t)
	ctx := context.Background()
	// An admin's own external group (e.g. for an OIDC mount) whose name
	// happens to differ from the broker's group for role
	// alice-ci-admins only in case.
	const handName = "Alilogin-Role-Alice-CI-Admins"
	var created struct {
		Data struct{ ID string } `json:"data"`
	}
	mustDo(t, vaultC, "POST", "/v1/identity/group/name/"+handName, map[string]any{
		"type": "external", "policies": []string{"hand-made"}, "metadata": map[string]string{"owner": "ops-team"},
	}, &created)
	if created.Data.ID == "" {
		t.Fatal("no id for the hand-made group")
	}
	type group struct {
		Data struct {
			Name     string            `json:"name"`
			Policies []string          `json:"policies"`
			Metadata map[string]string `json:"metadata"`
			Alias    map[string]any    `json:"alias"`
		} `json:"data"`
	}
	var before group
	mustDo(t, vaultC, "GET", "/v1/identity/group/id/"+created.Data.ID, nil, &before)

	planConflictThenApply(t, policiesDir(t, nil), fmt.Sprintf("the hand-made group %q", handName))

	var after group
	if err := vaultC.Do(ctx, "GET", "/v1/identity/group/id/"+created.Data.ID, nil, &after); err != nil {
		t.Fatalf("the hand-made group is gone: %v", err)
	}
	if after.Data.Name != before.Data.Name {
		t.Errorf("hand-made group renamed: %q -> %q", before.Data.Name, after.Data.Name)
	}
	if !slices.Equal(after.Data.Policies, before.Data.Policies) {
		t.Errorf("hand-made group's policies changed: %v -> %v", before.Data.Policies, after.Data.Policies)
	}
	if after.Data.Metadata["owner"] != "ops-team" || after.Data.Metadata["managed_by"] != "" {
		t.Errorf("hand-made group's metadata changed: %v -> %v", before.Data.Metadata, after.Data.Metadata)
	}
	if before.Data.Alias["name"] != after.Data.Alias["name"] {
		t.Errorf("hand-made group's alias changed: %v -> %v", before.Data.Alias, after.Data.Alias)
	}
}

// Review finding (low): Consul compares ACL policy names without case, the
// broker by exact name. A hand-made Consul policy whose name differs from a
// desired one only in case is not a conflict in the plan; apply then fails
// half-way (Consul refuses the create: "A Policy with Name ... already
// exists") after it has written the other phase-1 objects, instead of
// naming the conflict and writing nothing.
func TestCaseVariantConsulPolicyIsConflict(t *testing.T) {
	setup(t)
	mustDo(t, consulC, "PUT", "/v1/acl/policy", map[string]any{"Name": "Catalog-KV-Read", "Description": "hand-made", "Rules": `node_prefix "" { policy = "read" }`}, nil)
	planConflictThenApply(t, policiesDir(t, nil), "the hand-made Consul policy Catalog-KV-Read")
	nomadPolicyNotWritten(t, "a desired object's name is taken")
}

// Review 2 finding (low): the name of a desired identity group is checked
// for conflicts (in any case), but not its alias. An e-group mapped by
// hand before the broker took over — group "ops" with the alias
// alice-ci-admins on the JWT mount — is not named by plan; apply writes
// the phase 1-3 objects and the new group alilogin-role-alice-ci-admins,
// then fails on the alias (Vault allows one alias of a name per mount),
// instead of naming the conflict and writing nothing.
func TestGroupAliasTakenByHandMadeGroupIsConflict(t *testing.T) {
	setup(t)
	ops := handMadeGroup(t, "ops", map[string]any{"type": "external", "policies": []string{"default"}}, "alice-ci-admins")

	planConflictThenApply(t, policiesDir(t, nil), "the alias alice-ci-admins held by hand-made group ops")
	nomadPolicyNotWritten(t, "a desired group's alias is taken")
	var og struct {
		Data map[string]any `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/identity/group/id/"+ops, nil, &og)
	if a, _ := og.Data["alias"].(map[string]any); a == nil || a["name"] != "alice-ci-admins" {
		t.Errorf("hand-made group ops lost its alias: %v", og.Data["alias"])
	}
}

// planConflictThenApply runs plan of dir, which must name a conflict for
// handMade (an object made by hand, for the failure message), then
// apply, whose exit it only logs: each test checks what apply left.
func planConflictThenApply(t *testing.T, dir, handMade string) {
	t.Helper()
	code, out, _ := broker(t, "plan", dir)
	if !strings.Contains(out, "conflict") {
		t.Errorf("plan (exit %d) names no conflict for %s:\n%s", code, handMade, out)
	}
	code, _, stderr := broker(t, "apply", "--auto-approve", dir)
	t.Logf("apply: exit %d: %s", code, stderr)
}

// nomadPolicyNotWritten checks that Nomad has no policy ci-read-jobs
// (apply wrote nothing, because why).
func nomadPolicyNotWritten(t *testing.T, why string) {
	t.Helper()
	if err := nomadC.Do(context.Background(), "GET", "/v1/acl/policy/ci-read-jobs", nil, nil); apiclient.StatusOf(err) != 404 {
		t.Errorf("apply wrote Nomad policy ci-read-jobs (err %v) although %s", err, why)
	}
}
