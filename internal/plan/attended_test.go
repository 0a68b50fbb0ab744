package plan

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/policy"
)

func attendedConfig() *policy.Config {
	return &policy.Config{
		SSO:      policy.SSO{Issuer: "https://sso.example/", ClientID: "alilogin", RolesClaim: "cern_roles", UserClaim: "cern_upn"},
		Vault:    policy.Vault{JWTMount: "jwt", NomadMount: "nomad", ConsulMount: "consul", OIDCMount: "oidc"},
		Attended: &policy.AttendedSettings{OIDCMount: "oidc", ClientID: "alilogin-elevate"},
		Profiles: []policy.Profile{{Name: "ops", Roles: []string{"ops-team"}, NomadPolicies: []string{"read"}, TTL: time.Hour, MaxTTL: 8 * time.Hour,
			Attended: policy.Attended{NomadManagement: true, ConsulPolicies: []string{"kv-write"}, VaultPolicies: []string{"secrets-write"},
				Window: 10 * time.Minute, MaxAge: 2 * time.Minute, ACR: "urn:stepup"}}},
	}
}

// An attended tier adds its OIDC config, OIDC role, attended nomad and
// consul roles and generated policy; the profile's record lists the roles
// with their mounts, so that ownership is judged as for every role.
func TestDesiredAttendedObjects(t *testing.T) {
	cfg := attendedConfig()
	got := map[Key]Fields{}
	for _, o := range Desired(cfg) {
		got[o.Key()] = o.Fields
	}
	for _, k := range []Key{{OIDCConfig, "oidc"}, {OIDCRole, "ops"}, {AttendedNomadRole, "ops.attended"},
		{AttendedConsulRole, "ops.attended"}, {VaultPolicy, "alilogin-attended-ops"}, {NomadRole, "ops"}, {JWTRole, "ops"}} {
		if _, ok := got[k]; !ok {
			t.Errorf("no desired %s", k)
		}
	}
	if f := got[Key{AttendedNomadRole, "ops.attended"}]; f["type"] != "management" {
		t.Errorf("attended nomad role %v, want type management", f)
	}
	if f := got[Key{OIDCConfig, "oidc"}]; f["oidc_client_secret"] != SecretPlaceholder || f["oidc_client_id"] != "alilogin-elevate" {
		t.Errorf("OIDC config %v", f)
	}
	role := got[Key{OIDCRole, "ops"}]
	want := Fields{"role_type": "oidc", "max_age": int64(120), "token_ttl": int64(600), "token_explicit_max_ttl": int64(600),
		"bound_claims": map[string][]string{"cern_roles": {"ops-team"}, "acr": {"urn:stepup"}}, "bound_audiences": []string{"alilogin-elevate"},
		"token_policies": []string{"alilogin-attended-ops", "secrets-write"}, "groups_claim": "", "allowed_redirect_uris": []string{RedirectURI}}
	for k, v := range want {
		if d := cmp.Diff(v, role[k]); d != "" {
			t.Errorf("OIDC role %s (-want +got):\n%s", k, d)
		}
	}
	if missing := slices.DeleteFunc(RoleFieldNames(OIDCRole), func(n string) bool { _, ok := role[n]; return ok }); len(missing) > 0 {
		t.Errorf("OIDC role fields not written: %v", missing)
	}
	rec := got[Key{VaultPolicy, "alilogin-profile-ops"}]["roles"].([]string)
	for _, e := range []string{"oidc@oidc", "nomad-attended@nomad", "consul-attended@consul"} {
		if !slices.Contains(rec, e) {
			t.Errorf("record %v lacks %s", rec, e)
		}
	}
	claims := map[string][]string{"ops": rec}
	if !RoleOwned(claims, cfg.Vault, AttendedNomadRole, "ops.attended") || RoleOwned(claims, cfg.Vault, AttendedNomadRole, "ops") ||
		RoleOwned(claims, cfg.Vault, NomadRole, "ops.attended") {
		t.Error("the attended nomad role's ownership is read under the wrong name")
	}
}

// The attended roles' names are those of no profile's own roles.
func TestAttendedRoleNamesDoNotCollide(t *testing.T) {
	for _, k := range []Kind{AttendedNomadRole, AttendedConsulRole} {
		n := RoleName(k, "ops")
		if policy.CheckName(n) == nil {
			t.Errorf("%s of ops is %q, a valid profile name", k, n)
		}
		if p, ok := ProfileOfRole(k, n); !ok || p != "ops" {
			t.Errorf("ProfileOfRole(%s, %q) = %q, %v", k, n, p, ok)
		}
		if _, ok := ProfileOfRole(k, "ops"); ok {
			t.Errorf("%s: an everyday role read as an attended one", k)
		}
	}
}
