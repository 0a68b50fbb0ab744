package guard

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/store"
)

// TestACLChangesOutliveTheWindow: the writes that change who may do what
// (ACLs, auth methods and their roles, identities) are the ones an
// attended window refuses; reads of them and ordinary writes are not.
func TestACLChangesOutliveTheWindow(t *testing.T) {
	cases := []struct {
		server store.Kind
		method string
		path   string
		want   bool
	}{
		{store.Nomad, "POST", "/v1/acl/policy/anonymous", true},
		{store.Nomad, "PUT", "/v1/acl/token", true},
		{store.Nomad, "DELETE", "/v1/acl/token/abc", true},
		{store.Nomad, "POST", "/v1/acl/role", true},
		{store.Nomad, "POST", "/v1/acl/auth-method", true},
		{store.Nomad, "POST", "/v1/acl/binding-rule", true},
		{store.Nomad, "POST", "/v1/acl/bootstrap", true},
		{store.Nomad, "POST", "/v1/ACL/Policy/anonymous", true},
		{store.Nomad, "GET", "/v1/acl/policy/anonymous", false},
		{store.Nomad, "PUT", "/v1/system/gc", false},
		{store.Nomad, "POST", "/v1/jobs", false},
		{store.Consul, "PUT", "/v1/acl/token", true},
		{store.Consul, "PUT", "/v1/acl/policy", true},
		{store.Consul, "PUT", "/v1/acl/binding-rule", true},
		{store.Consul, "PUT", "/v1/agent/token/default", true},
		{store.Consul, "GET", "/v1/acl/tokens", false},
		{store.Consul, "PUT", "/v1/kv/app/x", false},
		{store.Vault, "PUT", "/v1/sys/policy/admin", true},
		{store.Vault, "POST", "/v1/sys/policies/acl/admin", true},
		{store.Vault, "DELETE", "/v1/sys/policies/acl/admin", true},
		{store.Vault, "POST", "/v1/sys/auth/userpass", true},
		{store.Vault, "POST", "/v1/auth/jwt/role/dev", true},
		{store.Vault, "POST", "/v1/auth/oidc/config", true},
		{store.Vault, "POST", "/v1/auth/userpass/users/me", true},
		{store.Vault, "POST", "/v1/auth/approle/role/r/secret-id", true},
		{store.Vault, "POST", "/v1/auth/token/create-orphan", true},
		{store.Vault, "POST", "/v1/auth/token/create/orphans", true},
		{store.Vault, "POST", "/v1/auth/token/roles/orphans", true},
		{store.Vault, "POST", "/v1/identity/entity", true},
		{store.Vault, "PUT", "/v1/identity/group/name/admins", true},
		{store.Vault, "GET", "/v1/sys/policy/admin", false},
		{store.Vault, "LIST", "/v1/auth/jwt/role", false},
		{store.Vault, "POST", "/v1/auth/token/revoke-self", false},
		{store.Vault, "POST", "/v1/auth/token/create", false},
		{store.Vault, "POST", "/v1/secret/data/app", false},
		{store.Vault, "POST", "/v1/sys/mounts/kv2", false},
	}
	for _, c := range cases {
		if got := OutlivesWindow(c.server, c.method, c.path); got != c.want {
			t.Errorf("OutlivesWindow(%s, %s %s) = %v, want %v", c.server, c.method, c.path, got, c.want)
		}
	}
}

// TestAttendedGateRefusesACLChanges: Check refuses an ACL change made
// with the privileged token of an attended window (403, saying why), and
// lets the same request through with the ordinary rules (the server's
// own ACLs decide); an elevated write that changes no ACL passes.
func TestAttendedGateRefusesACLChanges(t *testing.T) {
	r := httptest.NewRequest("POST", "http://127.0.0.1/v1/acl/policy/anonymous", nil)
	d := Check(store.Nomad, r, Rules{Attended: true})
	if d.Refuse == "" || d.Status() != 403 || d.Reason != ACLChange {
		t.Fatalf("an ACL change through an attended window: %+v", d)
	}
	if !strings.Contains(d.Refuse, "outlive the attended window") || !strings.Contains(d.Refuse, "admin token") {
		t.Errorf("the refusal does not say why: %q", d.Refuse)
	}
	if d := Check(store.Nomad, r, Rules{}); d.Refuse != "" {
		t.Errorf("outside a window the rule does not apply: %q", d.Refuse)
	}
	gc := httptest.NewRequest("PUT", "http://127.0.0.1/v1/system/gc", nil)
	if d := Check(store.Nomad, gc, Rules{Attended: true}); d.Refuse != "" || !d.Write {
		t.Errorf("an elevated write that changes no ACL: %+v", d)
	}
	// Encoded paths are decoded before the rule.
	enc := httptest.NewRequest("PUT", "http://127.0.0.1/v1/sys/polic%79/admin", nil)
	if d := Check(store.Vault, enc, Rules{Attended: true}); d.Refuse == "" {
		t.Errorf("an encoded Vault policy write went through")
	}
}
