package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// judged is what Owner says of one live object: kept in the live state,
// managed, legacy.
type judged struct{ Keep, Managed, Legacy bool }

func verdict(o Object, keep bool) judged { return judged{keep, o.Managed, o.Legacy} }

// TestOwnerEveryKind: one verdict per kind of object, for the broker's
// own object, a hand-made one of a desired name (kept: a conflict) and a
// hand-made one of another name (left out).
func TestOwnerEveryKind(t *testing.T) {
	cfg := alice()
	cfg.Vault.ConfigureJWT = true
	desired := Desired(cfg)
	o := NewOwner(cfg.Vault, desired)
	ciPolicy := VaultPolicyText("alilogin-profile-ci", Fields{"policy": "", "roles": []string{"consul@consul", "jwt@jwt", "nomad@nomad"}})
	pendingPolicy := VaultPolicyText("alilogin-profile-p", Fields{"policy": "", "roles": []string{"jwt@jwt"},
		"pending": []string{PendingEntry(JWTRole, "jwt", Fields{"role_type": "jwt"})}})
	unsurePolicy := "# " + MarkerFor(VaultPolicy, "alilogin-profile-u", "roles=jwt") + "\n"
	legacyPolicy := legacyProfilePolicy("l", true, false)
	for _, pol := range []struct{ name, text string }{
		{"alilogin-profile-ci", ciPolicy}, {"alilogin-profile-p", pendingPolicy},
		{"alilogin-profile-u", unsurePolicy}, {"alilogin-profile-l", legacyPolicy},
	} {
		if _, keep := o.VaultPolicy(pol.name, pol.text); !keep {
			t.Fatalf("managed policy %s not kept", pol.name)
		}
	}
	role := func(k Kind, name string, f Fields) (Object, bool) {
		return o.Role(Object{Kind: k, Name: name, Mount: RoleMount(cfg.Vault, k), Fields: f})
	}
	group := func(name, managedBy, alias string, onMount bool) (Object, bool) {
		return o.Group(Object{Kind: Group, Name: name, Fields: Fields{"type": "external"}}, managedBy, alias, onMount)
	}
	tests := []struct {
		name string
		got  judged
		want judged
	}{
		{"nomad policy, marker naming it", verdict(o.ACLPolicy(Object{Kind: NomadPolicy, Name: "n"}, Description(NomadPolicy, "n"))), judged{true, true, false}},
		{"nomad policy, legacy marker", verdict(o.ACLPolicy(Object{Kind: NomadPolicy, Name: "x"}, LegacyDescription(NomadPolicy, "x"))), judged{true, true, true}},
		{"nomad policy, hand-made, desired name", verdict(o.ACLPolicy(Object{Kind: NomadPolicy, Name: "n"}, "hand-made")), judged{true, false, false}},
		{"nomad policy, hand-made, other name", verdict(o.ACLPolicy(Object{Kind: NomadPolicy, Name: "x"}, "hand-made")), judged{false, false, false}},
		{"nomad policy, other case is another policy", verdict(o.ACLPolicy(Object{Kind: NomadPolicy, Name: "N"}, "hand-made")), judged{false, false, false}},
		{"consul policy, hand-made, desired name in another case", verdict(o.ACLPolicy(Object{Kind: ConsulPolicy, Name: "C"}, "hand-made")), judged{true, false, false}},
		{"vault policy, marker naming it", verdict(o.VaultPolicy("v", VaultPolicyText("v", Fields{"policy": ""}))), judged{true, true, false}},
		{"vault policy, copy under another name", verdict(o.VaultPolicy("w", VaultPolicyText("v", Fields{"policy": ""}))), judged{false, false, false}},
		{"vault policy, hand-made, desired name", verdict(o.VaultPolicy("v", "path \"x\" {}\n")), judged{true, false, false}},
		{"jwt role, recorded", verdict(role(JWTRole, "ci", Fields{})), judged{true, true, false}},
		{"nomad role, recorded by a legacy record", verdict(role(NomadRole, "l", Fields{})), judged{true, true, true}},
		{"jwt role, pending, as written", verdict(role(JWTRole, "p", Fields{"role_type": "jwt"})), judged{true, true, false}},
		{"jwt role, pending, changed by hand since", verdict(role(JWTRole, "p", Fields{"role_type": "oidc"})), judged{false, false, false}},
		{"jwt role, record without mounts, names the profile policy", verdict(role(JWTRole, "u", Fields{"token_policies": []string{"alilogin-profile-u"}})), judged{true, true, false}},
		{"jwt role, record without mounts, hand-made", verdict(role(JWTRole, "u", Fields{"token_policies": []string{"x"}})), judged{false, false, false}},
		{"nomad role, unrecorded, desired name", verdict(o.UnrecordedRole(NomadRole, "ci")), judged{true, false, false}},
		{"nomad role, unrecorded, other name", verdict(o.UnrecordedRole(NomadRole, "vault-only")), judged{false, false, false}},
		{"group, marker naming it", verdict(group("alilogin-role-a", GroupMarker("alilogin-role-a"), "a", true)), judged{true, true, false}},
		{"group, legacy marker with its alias", verdict(group("alilogin-role-b", Marker, "b", true)), judged{true, true, true}},
		{"group, copy of the marker", verdict(group("alilogin-role-b", GroupMarker("alilogin-role-a"), "", false)), judged{false, false, false}},
		{"group, hand-made, desired name in another case", verdict(group("Alilogin-Role-A", "", "", false)), judged{true, false, false}},
		{"jwt auth config, asked for", verdict(o.Config(Object{Kind: JWTConfig, Name: "jwt"})), judged{true, true, false}},
		{"nomad lease config, asked for", verdict(o.Config(Object{Kind: NomadLease, Name: "nomad"})), judged{true, true, false}},
		{"nomad lease config of another mount", verdict(o.Config(Object{Kind: NomadLease, Name: "nomad2"})), judged{false, false, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %+v, want %+v", tc.got, tc.want)
			}
		})
	}
	for k, want := range map[Key]bool{{NomadRole, "ci"}: true, {ConsulRole, "ci"}: true, {JWTRole, "ci"}: true,
		{NomadRole, "vault-only"}: false, {NomadRole, "l"}: true, {ConsulRole, "l"}: false, {JWTRole, "nobody"}: false} {
		if got := o.RoleRecorded(k.Kind, k.Name); got != want {
			t.Errorf("RoleRecorded(%s) = %v, want %v", k, got, want)
		}
	}
	for name, want := range map[string]bool{"alilogin-role-x": true, "ALILOGIN-ROLE-X": true, "ops": false} {
		if got := o.MayOwnGroup(name); got != want {
			t.Errorf("MayOwnGroup(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestOwnerKeepsNoFieldsOfOthers: an object that is not the broker's is
// kept without its fields: nothing of it is compared or written.
func TestOwnerKeepsNoFieldsOfOthers(t *testing.T) {
	o := NewOwner(mounts, Desired(alice()))
	got, keep := o.ACLPolicy(Object{Kind: NomadPolicy, Name: "n", Fields: Fields{"rules": "x"}}, "hand-made")
	if !keep || got.Fields != nil {
		t.Errorf("kept %v, fields %v", keep, got.Fields)
	}
}

// TestKindRules: every kind has its rules, in apply order, and markers
// name objects as they always did.
func TestKindRules(t *testing.T) {
	for i := 1; i < len(Kinds); i++ {
		if Kinds[i-1].Phase() > Kinds[i].Phase() {
			t.Errorf("%s (phase %d) listed before %s (phase %d)", Kinds[i-1], Kinds[i-1].Phase(), Kinds[i], Kinds[i].Phase())
		}
	}
	ids := map[Kind]string{}
	for _, k := range Kinds {
		ids[k] = ObjectID(k, "x")
	}
	want := map[Kind]string{
		NomadPolicy: "nomad/acl-policy/x", ConsulPolicy: "consul/acl-policy/x", VaultPolicy: "vault/policy/x",
		NomadRole: "vault/nomad-role/x", ConsulRole: "vault/consul-role/x", PKIRole: "vault/pki-role/x", JWTRole: "vault/jwt-role/x",
		Group: "vault/identity-group/x", JWTConfig: "vault/jwt-auth-config/x", NomadLease: "vault/nomad-lease-config/x",
		OIDCConfig: "vault/oidc-auth-config/x", OIDCRole: "vault/oidc-role/x",
		AttendedNomadRole: "vault/nomad-attended-role/x", AttendedConsulRole: "vault/consul-attended-role/x",
		NomadAuthMethod: "nomad/acl-auth-method/x", ConsulAuthMethod: "consul/acl-auth-method/x", ConsulACLRole: "consul/acl-role/x",
		NomadBindingRule: "nomad/acl-binding-rule/x", ConsulBindingRule: "consul/acl-binding-rule/x",
	}
	if d := cmp.Diff(want, ids); d != "" {
		t.Errorf("ObjectID (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]Kind{NomadRole, ConsulRole, PKIRole, AttendedNomadRole, AttendedConsulRole, JWTRole, OIDCRole}, RoleKinds()); d != "" {
		t.Errorf("RoleKinds (-want +got):\n%s", d)
	}
	var deletable []Kind
	for _, k := range Kinds {
		if k.Deletable() {
			deletable = append(deletable, k)
		}
	}
	if d := cmp.Diff([]Kind{NomadPolicy, ConsulPolicy, NomadAuthMethod, ConsulAuthMethod, VaultPolicy, ConsulACLRole,
		NomadRole, ConsulRole, PKIRole, AttendedNomadRole, AttendedConsulRole, JWTRole, OIDCRole, Group, NomadBindingRule, ConsulBindingRule}, deletable); d != "" {
		t.Errorf("deletable kinds (-want +got):\n%s", d)
	}
}
