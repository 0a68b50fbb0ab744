package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
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
func TestReviewCaseVariantGroupIsConflictNotTakenOver(t *testing.T) {
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

	dir := policiesDir(t, nil)
	code, out, _ := broker(t, "plan", dir)
	if !strings.Contains(out, "conflict") {
		t.Errorf("plan (exit %d) reports no conflict for the hand-made group %q:\n%s", code, handName, out)
	}
	code, _, stderr := broker(t, "apply", "--auto-approve", dir)
	t.Logf("apply: exit %d\n%s", code, stderr)

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
