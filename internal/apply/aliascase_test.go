package apply

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
)

// Review 3 finding (medium): Vault compares group alias names on a mount
// without case (checked on Vault 1.13: with an alias "Admins" on the JWT
// mount, writing an alias "admins" there fails with "combination of mount
// and group alias name is already in use"). aliasConflicts matches the
// listed alias names exactly, so a hand-made group holding
// "Alice-CI-Admins" is no conflict for the desired alias
// "alice-ci-admins": plan names nothing and apply writes everything before
// the alias, then fails on it — the very case review2 5 fixed, in another
// case.
func TestGroupAliasTakenInOtherCaseIsConflict(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{"id":"hand-id","name":"ops","type":"external"}}`))
	}))
	defer srv.Close()
	env := map[string]string{"VAULT_ADDR": srv.URL, "VAULT_TOKEN": "t", "NOMAD_ADDR": srv.URL, "NOMAD_TOKEN": "t",
		"CONSUL_HTTP_ADDR": srv.URL, "CONSUL_HTTP_TOKEN": "t"}
	c, err := ClientsFromEnv(func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	s := newSession(&policy.Config{}, c, 1)
	s.accessor = "auth_jwt_1"
	desired := []plan.Object{{Kind: plan.Group, Name: "alilogin-role-alice-ci-admins", Fields: plan.Fields{"type": "external", "policies": []string{"v"}, "alias": "alice-ci-admins"}}}
	r := &reader{s: s, owner: plan.NewOwner(policy.Vault{}, desired), desired: desired}
	aliases := map[string]aliasInfo{"a1": {Name: "Alice-CI-Admins", MountAccessor: "auth_jwt_1", CanonicalID: "hand-id"}}
	if err := r.aliasConflicts(context.Background(), aliases); err != nil {
		t.Fatal(err)
	}
	if len(r.taken) == 0 {
		t.Errorf("alias alice-ci-admins, held on the JWT mount as Alice-CI-Admins by hand-made group ops, is no conflict")
	}
}
