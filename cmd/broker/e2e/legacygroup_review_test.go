package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/apply"
)

// Review finding (low): the legacy rule for identity groups (managed_by is
// exactly "managed by alilogin broker", external, alias R on the JWT mount,
// name alilogin-role-<r>) holds for any group set up that way, not only for
// one the version before made. An admin who maps one more e-group by hand,
// the way the broker did it — copying an existing legacy group's settings
// and metadata to alilogin-role-ops-oncall with the alias ops-oncall on the
// JWT mount — has made a "managed" group: apply --prune deletes it (and its
// alias). The old marker names nothing, so "a copy cannot have that alias"
// only covers a copy that kept the original's alias.
//
// Must: a legacy-marked object the files do not declare is not deleted
// (warn instead); legacy markers only keep an upgrade quiet for objects
// still declared.
func TestReviewHandMadeGroupWithLegacyMarkerSurvivesPrune(t *testing.T) {
	setup(t)
	dir := policiesDir(t, nil)
	applyDir(t, dir, apply.Options{})
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
	mustDo(t, vaultC, "POST", "/v1/identity/group/name/alilogin-role-ops-oncall", map[string]any{
		"type": "external", "policies": []string{"ci-secrets-read"}, "metadata": map[string]string{"managed_by": "managed by alilogin broker"}}, &g)
	mustDo(t, vaultC, "POST", "/v1/identity/group-alias", map[string]any{"name": "ops-oncall", "mount_accessor": acc, "canonical_id": g.Data.ID}, nil)

	if _, out, _ := broker(t, "plan", "--prune", dir); !strings.Contains(out, `? vault identity group "alilogin-role-ops-oncall": legacy, not deleted; delete by hand or declare`) {
		t.Errorf("plan --prune does not report the legacy group:\n%s", out)
	}
	res, err := applyErr(t, dir, apply.Options{Prune: true})
	t.Logf("apply --prune: %v, changes %v", err, res.Plan.Changes)
	if err := vaultC.Do(context.Background(), "GET", "/v1/identity/group/id/"+g.Data.ID, nil, nil); err != nil {
		t.Errorf("the hand-made group alilogin-role-ops-oncall was deleted by apply --prune: %v", err)
	}
	var after struct {
		Data map[string]any `json:"data"`
	}
	_ = vaultC.Do(context.Background(), "GET", "/v1/identity/group/id/"+g.Data.ID, nil, &after)
	if after.Data == nil {
		t.Errorf("the hand-made group alilogin-role-ops-oncall is gone after apply --prune")
	}
}
