package apply

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
)

// The decisions of vault.go: what apply reads, creates, updates, leaves
// alone, refuses and prunes in Vault, as functions of the change and of
// what was read (vaultdecide.go).

func change(kind plan.Kind, name string, a plan.Action, f plan.Fields) plan.Change {
	return plan.Change{System: plan.Vault, Kind: kind, Name: name, Action: a, Desired: &plan.Object{Kind: kind, Name: name, Fields: f}}
}

func TestVaultPolicyWriteCreatesMarkedAndPrunes(t *testing.T) {
	for _, a := range []plan.Action{plan.Create, plan.Update} {
		w := policyWrite(change(plan.VaultPolicy, "ci read", a, plan.Fields{"policy": `path "kv/*" { capabilities = ["read"] }`}))
		if w.method != "PUT" || w.path != "/v1/sys/policies/acl/ci%20read" {
			t.Errorf("%s: %s %s, want PUT /v1/sys/policies/acl/ci%%20read", a, w.method, w.path)
		}
		text, _ := w.body.(map[string]any)["policy"].(string)
		if own := plan.VaultPolicyOwner("ci read", text, policy.Vault{}); !own.Managed || !strings.Contains(text, `path "kv/*"`) {
			t.Errorf("%s: the written text is not the broker's (managed %v) or lost the rules:\n%s", a, own.Managed, text)
		}
	}
	w := policyWrite(change(plan.VaultPolicy, "old", plan.Delete, nil))
	if w != (vaultWrite{method: "DELETE", path: "/v1/sys/policies/acl/old"}) {
		t.Errorf("prune: %+v, want a DELETE with no body", w)
	}
}

func TestRootPolicyIsNeverRead(t *testing.T) {
	listed := []string{"default", "root", "alilogin-profile-ci"}
	if got, want := readablePolicies(listed), []string{"default", "alilogin-profile-ci"}; !cmp.Equal(got, want) {
		t.Errorf("read %v, want %v", got, want)
	}
	if len(listed) != 3 || listed[1] != "root" {
		t.Errorf("the listed names were changed: %v", listed)
	}
}

func TestRoleWriteWholeOrPrune(t *testing.T) {
	pkiErr := errors.New("no accessor")
	noPKI := func(plan.Fields) (map[string]any, error) { t.Fatal("PKI body for a JWT role"); return nil, nil }
	w, err := roleWrite("/v1/auth/jwt/role/ci", change(plan.JWTRole, "ci", plan.Update,
		plan.Fields{"token_policies": []string{"a"}, "claim_mappings": []string{"email=email", "name=name"}}), noPKI)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"token_policies": []string{"a"}, "claim_mappings": map[string]string{"email": "email", "name": "name"}}
	if w.method != "POST" || !cmp.Equal(w.body, want) {
		t.Errorf("update: %s %v, want POST %v (claim mappings as a map)", w.method, w.body, want)
	}
	if w, _ := roleWrite("/v1/nomad/role/ci", change(plan.NomadRole, "ci", plan.Delete, nil), noPKI); w != (vaultWrite{method: "DELETE", path: "/v1/nomad/role/ci"}) {
		t.Errorf("prune: %+v", w)
	}
	_, err = roleWrite("/v1/pki/roles/ci", change(plan.PKIRole, "ci", plan.Create, plan.Fields{}), func(plan.Fields) (map[string]any, error) { return nil, pkiErr })
	if !errors.Is(err, pkiErr) {
		t.Errorf("a PKI role whose body cannot be made: %v, want its error", err)
	}
}

func TestJWTConfigWriteKeepsOtherSettingsAndIsNeverPruned(t *testing.T) {
	live := map[string]any{"oidc_discovery_url": "https://old", "jwt_supported_algs": []any{"RS256"}, "default_role": "", "jwks_url": nil}
	w, ok := jwtConfigWrite("/v1/auth/jwt/config", change(plan.JWTConfig, "jwt", plan.Update,
		plan.Fields{"oidc_discovery_url": "https://sso", "bound_issuer": "https://sso"}), live)
	want := map[string]any{"oidc_discovery_url": "https://sso", "bound_issuer": "https://sso", "jwt_supported_algs": []any{"RS256"}}
	if !ok || w.method != "POST" || !cmp.Equal(w.body, want) {
		t.Errorf("update: %v %s %v, want POST %v (the other settings kept, empty ones left out)", ok, w.method, w.body, want)
	}
	if _, ok := jwtConfigWrite("/v1/auth/jwt/config", change(plan.JWTConfig, "jwt", plan.Delete, nil), live); ok {
		t.Error("the JWT auth config is deleted by a prune")
	}
}

func TestNomadLeaseWriteBothSettingsAndIsNeverPruned(t *testing.T) {
	w, ok := nomadLeaseWrite("/v1/nomad/config/lease", change(plan.NomadLease, "nomad", plan.Create, plan.Fields{"ttl": int64(3600), "max_ttl": int64(43200)}))
	if !ok || w.method != "POST" || !cmp.Equal(w.body, map[string]any{"ttl": int64(3600), "max_ttl": int64(43200)}) {
		t.Errorf("create: %v %+v", ok, w)
	}
	if _, ok := nomadLeaseWrite("/v1/nomad/config/lease", change(plan.NomadLease, "nomad", plan.Delete, nil)); ok {
		t.Error("the nomad lease config is deleted by a prune")
	}
}

func TestGroupWriteMarksManagedOrPrunes(t *testing.T) {
	w := groupWrite(change(plan.Group, "alilogin-role-ops", plan.Create, plan.Fields{"type": "external", "policies": []string{"p"}, "alias": "ops"}))
	md, _ := w.body.(map[string]any)["metadata"].(map[string]string)
	if w.method != "POST" || w.path != "/v1/identity/group/name/alilogin-role-ops" || md[plan.GroupMetadataKey] != plan.GroupMarker("alilogin-role-ops") {
		t.Errorf("create: %s %s metadata %v, want POST with the broker's marker", w.method, w.path, md)
	}
	if w := groupWrite(change(plan.Group, "alilogin-role-ops", plan.Delete, nil)); w != (vaultWrite{method: "DELETE", path: "/v1/identity/group/name/alilogin-role-ops"}) {
		t.Errorf("prune: %+v", w)
	}
}

func TestGroupAliasWrite(t *testing.T) {
	desired := plan.Fields{"alias": "alice-ci-admins"}
	for _, tc := range []struct {
		name               string
		liveAlias, aliasID string
		want               vaultWrite
		write              bool
	}{
		{"the group has the alias: left alone", "alice-ci-admins", "al-1", vaultWrite{}, false},
		{"no alias yet: created", "", "", vaultWrite{method: "POST", path: "/v1/identity/group-alias"}, true},
		{"another alias: renamed in place", "alice-ci-old", "al-1", vaultWrite{method: "POST", path: "/v1/identity/group-alias/id/al-1"}, true},
		{"the alias on another mount: moved", "alice-ci-admins (on mount auth_x)", "al-2", vaultWrite{method: "POST", path: "/v1/identity/group-alias/id/al-2"}, true},
		{"the alias name without an alias id: created", "alice-ci-admins", "", vaultWrite{method: "POST", path: "/v1/identity/group-alias"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, ok := aliasWrite(desired, tc.liveAlias, tc.aliasID, "auth_jwt_1", "grp-1")
			if ok != tc.write || w.method != tc.want.method || w.path != tc.want.path {
				t.Fatalf("got %v %s %s, want %v %s %s", ok, w.method, w.path, tc.write, tc.want.method, tc.want.path)
			}
			if ok {
				want := map[string]any{"name": "alice-ci-admins", "mount_accessor": "auth_jwt_1", "canonical_id": "grp-1"}
				if diff := cmp.Diff(want, w.body); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestGroupReadShowsAliasOnAnotherMount(t *testing.T) {
	d := groupData{ID: "g1", Type: "external", Policies: []string{"b", "a"}, Metadata: map[string]string{plan.GroupMetadataKey: "x"}}
	d.Alias = &struct {
		ID            string `json:"id"`
		Name          string `json:"name"`
		MountAccessor string `json:"mount_accessor"`
	}{ID: "al", Name: "ops", MountAccessor: "auth_other"}
	g := groupOf("alilogin-role-ops", d, "auth_jwt_1")
	if g.onMount || g.Fields["alias"] != "ops (on mount auth_other)" || g.aliasName != "ops" || g.managedBy != "x" {
		t.Errorf("alias on another mount: onMount %v, alias %q, name %q, managed_by %q", g.onMount, g.Fields["alias"], g.aliasName, g.managedBy)
	}
	if !cmp.Equal(g.Fields["policies"], []string{"a", "b"}) {
		t.Errorf("policies %v, want sorted", g.Fields["policies"])
	}
	d.Alias.MountAccessor = "auth_jwt_1"
	if g := groupOf("alilogin-role-ops", d, "auth_jwt_1"); !g.onMount || g.Fields["alias"] != "ops" {
		t.Errorf("alias on the JWT mount: onMount %v, alias %q", g.onMount, g.Fields["alias"])
	}
	if groupOf("gone", groupData{}, "auth_jwt_1") != nil {
		t.Error("a group Vault does not have is read as one")
	}
}

func TestAliasTakenByAnotherGroupIsRefused(t *testing.T) {
	desired := []plan.Object{
		{Kind: plan.Group, Name: "alilogin-role-admins", Fields: plan.Fields{"alias": "admins"}},
		{Kind: plan.Group, Name: "alilogin-role-ops", Fields: plan.Fields{"alias": "ops"}},
		{Kind: plan.Group, Name: "alilogin-role-users", Fields: plan.Fields{"alias": "users"}},
	}
	live := []plan.Object{{Kind: plan.Group, Name: "Alilogin-Role-Ops", ID: "own-ops"}}
	aliases := map[string]aliasInfo{
		"a1": {Name: "Admins", MountAccessor: "auth_jwt_1", CanonicalID: "hand-made"}, // another group, other case
		"a2": {Name: "ops", MountAccessor: "auth_jwt_1", CanonicalID: "own-ops"},      // the group of the name
		"a3": {Name: "users", MountAccessor: "auth_other", CanonicalID: "hand-made"},  // another mount
	}
	got := takenAliases(desired, live, aliases, "auth_jwt_1")
	want := []aliasTaken{{group: "alilogin-role-admins", alias: "admins", holder: "hand-made"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(aliasTaken{})); diff != "" {
		t.Errorf("taken (-want +got):\n%s", diff)
	}
	noMount := map[string]aliasInfo{"a4": {Name: "admins", MountAccessor: "", CanonicalID: "hand-made"}}
	if got := takenAliases(desired, live, noMount, ""); len(got) != 0 {
		t.Errorf("no JWT mount accessor known: %v taken", got)
	}
}

func TestRolesReadOnlyWhenRecorded(t *testing.T) {
	cfg := &policy.Config{
		Vault:    policy.Vault{JWTMount: "jwt", NomadMount: "nomad", ConsulMount: "consul"},
		Profiles: []policy.Profile{{Name: "ci", Roles: []string{"alice-ci-users"}, TTL: time.Hour, MaxTTL: 12 * time.Hour}},
	}
	desired := plan.Desired(cfg)
	owner := plan.NewOwner(cfg.Vault, desired)
	name := policy.ProfilePolicy("ci")
	for _, d := range desired {
		if d.Kind == plan.VaultPolicy && d.Name == name {
			owner.VaultPolicy(name, plan.VaultPolicyText(name, d.Fields))
		}
	}
	read, unrecorded := rolesToRead(owner, map[plan.Kind][]string{plan.JWTRole: {"hand", "ci"}, plan.NomadRole: {"other"}})
	if want := []roleKey{{plan.JWTRole, "ci"}}; !cmp.Equal(read, want, cmp.AllowUnexported(roleKey{})) {
		t.Errorf("read %v, want %v: only the role the managed profile policy records", read, want)
	}
	if want := []roleKey{{plan.JWTRole, "hand"}, {plan.NomadRole, "other"}}; !cmp.Equal(unrecorded, want, cmp.AllowUnexported(roleKey{})) {
		t.Errorf("unrecorded %v, want %v", unrecorded, want)
	}
}
