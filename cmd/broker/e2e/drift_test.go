package e2e

import (
	"slices"
	"testing"

	"github.com/alisw/alilogin/internal/apply"
	"github.com/alisw/alilogin/internal/plan"
)

// Review 2 finding: drift in the broker's own roles is only seen in the
// fields readRole reads. A hand edit that widens what a managed role hands
// out — token_period on the JWT role (its tokens renew for ever, past the
// profile's max_ttl), consul_roles on the consul role (its tokens carry an
// ACL role the files never granted) — is invisible: plan reports no
// change, serve never repairs it. (The same blind spot is what lets a
// hand-made pending role with extra grants pass as the broker's.)
func TestDriftInUnreadRoleFieldsIsShown(t *testing.T) {
	setup(t)
	dir := policiesDir(t, nil)
	applyDir(t, dir, apply.Options{})
	mustDo(t, vaultC, "POST", "/v1/auth/jwt/role/ci-user", map[string]any{"role_type": "jwt", "token_period": "768h"}, nil)
	var jwt struct {
		Data map[string]any `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/auth/jwt/role/ci-user", nil, &jwt)
	if jwt.Data["token_period"] != float64(768*3600) {
		t.Fatalf("hand edit not taken: token_period %v", jwt.Data["token_period"])
	}
	mustDo(t, vaultC, "POST", "/v1/consul/roles/ci-user", map[string]any{
		"consul_policies": []string{"catalog-kv-read"}, "ttl": "1h", "max_ttl": "12h",
		"consul_roles": []string{"hand-made-admin"},
	}, nil)
	var cr struct {
		Data map[string]any `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/consul/roles/ci-user", nil, &cr)
	if r, _ := cr.Data["consul_roles"].([]any); len(r) != 1 {
		t.Fatalf("hand edit not taken: consul_roles %v", cr.Data["consul_roles"])
	}
	keys := planKeys(t, dir)
	for _, want := range []changeKey{{plan.Update, plan.JWTRole, "ci-user"}, {plan.Update, plan.ConsulRole, "ci-user"}} {
		if !slices.Contains(keys, want) {
			t.Errorf("plan does not show the drift of %s %q (changes %v)", want.Kind, want.Name, keys)
		}
	}
}
