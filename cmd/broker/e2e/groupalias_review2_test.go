package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/apiclient"
)

// Review 2 finding (low): the name of a desired identity group is checked
// for conflicts (in any case), but not its alias. An e-group mapped by
// hand before the broker took over — group "ops" with the alias
// alice-ci-admins on the JWT mount — is not named by plan; apply writes
// the phase 1-3 objects and the new group alilogin-role-alice-ci-admins,
// then fails on the alias (Vault allows one alias of a name per mount),
// instead of naming the conflict and writing nothing.
func TestReview2GroupAliasTakenByHandMadeGroupIsConflict(t *testing.T) {
	setup(t)
	var auths struct {
		Data map[string]struct {
			Accessor string `json:"accessor"`
		} `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/sys/auth", nil, &auths)
	acc := auths.Data["jwt/"].Accessor
	var g struct {
		Data struct{ ID string } `json:"data"`
	}
	mustDo(t, vaultC, "POST", "/v1/identity/group/name/ops", map[string]any{"type": "external", "policies": []string{"default"}}, &g)
	mustDo(t, vaultC, "POST", "/v1/identity/group-alias", map[string]any{"name": "alice-ci-admins", "mount_accessor": acc, "canonical_id": g.Data.ID}, nil)

	dir := policiesDir(t, nil)
	code, out, _ := broker(t, "plan", dir)
	if !strings.Contains(out, "conflict") {
		t.Errorf("plan (exit %d) names no conflict for the alias alice-ci-admins held by hand-made group ops", code)
	}
	code, _, stderr := broker(t, "apply", "--auto-approve", dir)
	t.Logf("apply: exit %d: %s", code, stderr)
	if err := nomadC.Do(context.Background(), "GET", "/v1/acl/policy/ci-read-jobs", nil, nil); apiclient.StatusOf(err) != 404 {
		t.Errorf("apply wrote Nomad policy ci-read-jobs (err %v) although a desired group's alias is taken", err)
	}
	var og struct {
		Data map[string]any `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/identity/group/id/"+g.Data.ID, nil, &og)
	if a, _ := og.Data["alias"].(map[string]any); a == nil || a["name"] != "alice-ci-admins" {
		t.Errorf("hand-made group ops lost its alias: %v", og.Data["alias"])
	}
}
