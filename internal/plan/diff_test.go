package plan

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/alisw/alilogin/internal/policy"
)

type key struct {
	Action Action
	Kind   Kind
	Name   string
}

func keys(p Plan) []key {
	out := []key{}
	for _, c := range p.Changes {
		out = append(out, key{c.Action, c.Kind, c.Name})
	}
	return out
}

func TestDiff(t *testing.T) {
	pol := func(name, rules string, managed bool) Object {
		return Object{Kind: NomadPolicy, Name: name, Managed: managed, Fields: Fields{"rules": rules}}
	}
	tests := []struct {
		name          string
		desired, live []Object
		want          []key
		conflicts     int
	}{
		{"nothing", nil, nil, []key{}, 0},
		{"create", []Object{pol("a", "x", false)}, nil, []key{{Create, NomadPolicy, "a"}}, 0},
		{"same", []Object{pol("a", "x", false)}, []Object{pol("a", "x", true)}, []key{}, 0},
		{"update", []Object{pol("a", "x", false)}, []Object{pol("a", "y", true)}, []key{{Update, NomadPolicy, "a"}}, 0},
		{"delete managed", nil, []Object{pol("a", "x", true)}, []key{{Delete, NomadPolicy, "a"}}, 0},
		{"unmanaged is left alone", nil, []Object{pol("a", "x", false)}, []key{}, 0},
		{"unmanaged name taken", []Object{pol("a", "x", false)}, []Object{pol("a", "x", false)}, []key{}, 1},
		{"server-side fields are ignored",
			[]Object{{Kind: ConsulRole, Name: "p", Fields: Fields{"ttl": int64(60)}}},
			[]Object{{Kind: ConsulRole, Name: "p", Managed: true, Fields: Fields{"ttl": int64(60), "local": false}}}, []key{}, 0},
		{"nil and empty lists are equal",
			[]Object{{Kind: Group, Name: "g", Fields: Fields{"policies": []string{}}}},
			[]Object{{Kind: Group, Name: "g", Managed: true, Fields: Fields{"policies": []string(nil)}}}, []key{}, 0},
		{"apply order: creates by phase, deletes in reverse",
			[]Object{{Kind: JWTRole, Name: "p"}, {Kind: VaultPolicy, Name: "v"}, {Kind: NomadRole, Name: "p"}, pol("n", "", false)},
			[]Object{{Kind: VaultPolicy, Name: "old", Managed: true}, {Kind: JWTRole, Name: "old", Managed: true}, pol("old", "", true)},
			[]key{{Create, NomadPolicy, "n"}, {Create, VaultPolicy, "v"}, {Create, NomadRole, "p"}, {Create, JWTRole, "p"},
				{Delete, JWTRole, "old"}, {Delete, VaultPolicy, "old"}, {Delete, NomadPolicy, "old"}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Diff(tc.desired, tc.live, true)
			if d := cmp.Diff(tc.want, keys(p)); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
			if len(p.Conflicts) != tc.conflicts {
				t.Errorf("conflicts = %v, want %d", p.Conflicts, tc.conflicts)
			}
		})
	}
}

func alice() *policy.Config {
	return &policy.Config{
		SSO:   policy.SSO{Issuer: "https://sso/", ClientID: "cli", RolesClaim: "cern_roles", UserClaim: "cern_upn"},
		Vault: policy.Vault{JWTMount: "jwt", NomadMount: "nomad", ConsulMount: "consul"},
		Profiles: []policy.Profile{
			{Name: "ci", Roles: []string{"b", "a"}, VaultPolicies: []string{"v"}, NomadPolicies: []string{"n"}, ConsulPolicies: []string{"c"}, TTL: time.Hour, MaxTTL: 2 * time.Hour},
			{Name: "vault-only", Roles: []string{"a"}, VaultPolicies: []string{"v"}, TTL: time.Minute, MaxTTL: time.Hour},
		},
		Roles:          []policy.Role{{Name: "a", VaultPolicies: []string{"v"}}},
		VaultPolicies:  []policy.Document{{Name: "v", File: "vault/v.hcl", Rules: "path \"x\" {}\n"}},
		NomadPolicies:  []policy.Document{{Name: "n", File: "nomad/n.hcl", Rules: "node {}\n"}},
		ConsulPolicies: []policy.Document{{Name: "c", File: "consul/c.hcl", Rules: "key \"\" {}\n"}},
	}
}

func TestDesired(t *testing.T) {
	got := map[Key]Fields{}
	for _, o := range Desired(alice()) {
		got[o.Key()] = o.Fields
	}
	want := map[Key]Fields{
		{NomadPolicy, "n"}:  {"rules": "node {}\n"},
		{ConsulPolicy, "c"}: {"rules": "key \"\" {}\n"},
		{VaultPolicy, "v"}:  {"policy": "path \"x\" {}\n"},
		{VaultPolicy, "alilogin-profile-ci"}: {"roles": []string{"consul@consul", "jwt@jwt", "nomad@nomad"}, "policy": "" +
			"path \"nomad/creds/ci\" {\n  capabilities = [\"read\"]\n}\n" +
			"path \"sys/leases/revoke/nomad/creds/ci/*\" {\n  capabilities = [\"update\"]\n  denied_parameters = {\n    \"*\" = []\n  }\n}\n" +
			"path \"sys/leases/renew/nomad/creds/ci/*\" {\n  capabilities = [\"update\"]\n  allowed_parameters = {\n    increment = []\n  }\n}\n" +
			"path \"consul/creds/ci\" {\n  capabilities = [\"read\"]\n}\n" +
			"path \"sys/leases/revoke/consul/creds/ci/*\" {\n  capabilities = [\"update\"]\n  denied_parameters = {\n    \"*\" = []\n  }\n}\n" +
			"path \"sys/leases/renew/consul/creds/ci/*\" {\n  capabilities = [\"update\"]\n  allowed_parameters = {\n    increment = []\n  }\n}\n"},
		{VaultPolicy, "alilogin-profile-vault-only"}: {"roles": []string{"jwt@jwt"}, "policy": ""},
		{NomadRole, "ci"}: {"policies": []string{"n"}, "type": "client", "global": false},
		{ConsulRole, "ci"}: with(Fields{"consul_policies": []string{"c"}, "ttl": int64(3600), "max_ttl": int64(7200)}, Fields{
			"consul_roles": []string{}, "service_identities": []string{}, "node_identities": []string{}, "local": false,
			"token_type": "client", "consul_namespace": "", "partition": ""}),
		{NomadLease, "nomad"}: {"ttl": int64(3600), "max_ttl": int64(7200)},
		{JWTRole, "ci"}: with(Fields{"role_type": "jwt", "bound_audiences": []string{"cli"}, "bound_claims": map[string][]string{"cern_roles": {"a", "b"}},
			"bound_claims_type": "string", "user_claim": "cern_upn", "groups_claim": "cern_roles", "token_policies": []string{"alilogin-profile-ci", "v"},
			"token_ttl": int64(3600), "token_max_ttl": int64(7200), "user_claim_json_pointer": false}, jwtDefaults),
		{JWTRole, "vault-only"}: with(Fields{"role_type": "jwt", "bound_audiences": []string{"cli"}, "bound_claims": map[string][]string{"cern_roles": {"a"}},
			"bound_claims_type": "string", "user_claim": "cern_upn", "groups_claim": "cern_roles", "token_policies": []string{"alilogin-profile-vault-only", "v"},
			"token_ttl": int64(60), "token_max_ttl": int64(3600), "user_claim_json_pointer": false}, jwtDefaults),
		{Group, "alilogin-role-a"}: {"type": "external", "policies": []string{"v"}, "alias": "a"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("desired (-want +got):\n%s", d)
	}
	// Every role pins exactly the fields the broker reads back (and
	// digests in pending= entries).
	for k, f := range got {
		if names := RoleFieldNames(k.Kind); names != nil {
			have := sortedFieldNames(f)
			if !slices.Equal(have, names) {
				t.Errorf("%s writes %v, reads back %v", k, have, names)
			}
		}
	}
}

// jwtDefaults are the token and claim settings every JWT role pins.
var jwtDefaults = Fields{
	"token_period": int64(0), "token_type": "default", "token_explicit_max_ttl": int64(0), "token_num_uses": int64(0),
	"token_bound_cidrs": []string{}, "token_no_default_policy": false, "claim_mappings": []string{}, "bound_subject": "",
	"clock_skew_leeway": int64(0), "expiration_leeway": int64(0), "not_before_leeway": int64(0), "verbose_oidc_logging": false,
}

func with(f, more Fields) Fields {
	out := Fields{}
	for _, m := range []Fields{f, more} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func TestWrite(t *testing.T) {
	live := []Object{
		{Kind: NomadPolicy, Name: "n", Managed: true, Fields: Fields{"rules": "node {}\nagent {}\n"}},
		{Kind: JWTRole, Name: "gone", Managed: true},
	}
	var desired []Object
	for _, o := range Desired(alice()) {
		if o.Kind == NomadPolicy || o.Kind == ConsulPolicy {
			if o.Kind == NomadPolicy {
				o.Fields["rules"] = "node {}\nquota {}\n"
			}
			desired = append(desired, o)
		}
	}
	var b bytes.Buffer
	Write(&b, Diff(desired, live, false), false)
	want := `Nomad:
  ~ nomad acl policy "n"
      rules:
          node {}
        - agent {}
        + quota {}
Consul:
  + consul acl policy "c"
Vault:
  - vault jwt role "gone"  (kept: deletes need --prune)
Plan: 1 to create, 1 to update, 1 to delete.
Deletes are carried out only with --prune; without it those objects stay as they are.
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("output (-want +got):\n%s", d)
	}
	b.Reset()
	Write(&b, Diff(nil, nil, false), false)
	if !strings.HasPrefix(b.String(), "No changes") {
		t.Errorf("empty plan: %q", b.String())
	}
}

func TestNomadLeaseFields(t *testing.T) {
	n := []string{"n"}
	tests := []struct {
		name     string
		profiles []policy.Profile
		want     Fields
	}{
		{"no profile", nil, nil},
		{"no profile grants nomad", []policy.Profile{{Name: "v", TTL: time.Hour, MaxTTL: 2 * time.Hour, ConsulPolicies: []string{"c"}}}, nil},
		{"one", []policy.Profile{{Name: "a", NomadPolicies: n, TTL: time.Hour, MaxTTL: 8 * time.Hour}},
			Fields{"ttl": int64(3600), "max_ttl": int64(8 * 3600)}},
		{"largest ttl and largest max ttl, maybe of different profiles; vault-only ignored", []policy.Profile{
			{Name: "a", NomadPolicies: n, TTL: 2 * time.Hour, MaxTTL: 4 * time.Hour},
			{Name: "b", NomadPolicies: n, TTL: time.Hour, MaxTTL: 12 * time.Hour},
			{Name: "c", TTL: 24 * time.Hour, MaxTTL: 48 * time.Hour},
		}, Fields{"ttl": int64(2 * 3600), "max_ttl": int64(12 * 3600)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, NomadLeaseFields(tc.profiles)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestManagedPoliciesWithReservedNamesAreDeletedWithoutPrune: a managed
// live policy named as one its server gives a meaning to (Nomad's
// anonymous, Consul's global-management), which a broker made before such
// names were refused, is deleted whether or not the plan prunes, and
// reported; Vault's default policy is reported but never deleted (Vault
// cannot), nor is a reserved policy whose only claim is a legacy marker;
// an ordinary stale policy still waits for prune.
func TestManagedPoliciesWithReservedNamesAreDeletedWithoutPrune(t *testing.T) {
	live := []Object{
		{Kind: NomadPolicy, Name: "anonymous", Managed: true, Fields: Fields{"rules": "namespace \"default\" {}\n"}},
		{Kind: ConsulPolicy, Name: "global-management", Managed: true, Fields: Fields{"rules": "acl = \"write\"\n"}},
		{Kind: VaultPolicy, Name: "default", Managed: true, Fields: Fields{"policy": "path \"x\" {}\n"}},
		{Kind: ConsulPolicy, Name: "builtin/global-read-only", Managed: true, Legacy: true, Fields: Fields{"rules": "x\n"}},
		{Kind: NomadPolicy, Name: "stale", Managed: true, Fields: Fields{"rules": "node {}\n"}},
		{Kind: NomadPolicy, Name: "Anonymous", Managed: false, Fields: Fields{"rules": "node {}\n"}},
	}
	for _, prune := range []bool{false, true} {
		p := Diff(nil, live, prune)
		wantReserved := []ReservedObject{
			{Kind: ConsulPolicy, Name: "builtin/global-read-only", Deleted: false},
			{Kind: ConsulPolicy, Name: "global-management", Deleted: true},
			{Kind: NomadPolicy, Name: "anonymous", Deleted: true},
			{Kind: VaultPolicy, Name: "default", Deleted: false},
		}
		if d := cmp.Diff(wantReserved, p.Reserved, cmpopts.IgnoreFields(ReservedObject{}, "Why")); d != "" {
			t.Errorf("prune=%v: reserved (-want +got):\n%s", prune, d)
		}
		todo, skipped := p.ToDo(prune)
		var did, kept []string
		for _, c := range todo {
			did = append(did, c.String())
		}
		for _, c := range skipped {
			kept = append(kept, c.String())
		}
		wantDid := []string{`delete consul acl policy "global-management"`, `delete nomad acl policy "anonymous"`}
		var wantKept []string
		if prune {
			wantDid = append(wantDid, `delete nomad acl policy "stale"`)
		} else {
			wantKept = []string{`delete nomad acl policy "stale"`}
		}
		slices.Sort(did)
		if d := cmp.Diff(wantDid, did); d != "" {
			t.Errorf("prune=%v: carried out (-want +got):\n%s", prune, d)
		}
		if d := cmp.Diff(wantKept, kept); d != "" {
			t.Errorf("prune=%v: skipped (-want +got):\n%s", prune, d)
		}
		if !slices.Equal(p.Legacy, []Key{{ConsulPolicy, "builtin/global-read-only"}}) {
			t.Errorf("prune=%v: legacy %v", prune, p.Legacy)
		}
		var out strings.Builder
		Write(&out, p, prune)
		if !strings.Contains(out.String(), `- nomad acl policy "anonymous"  (reserved name: deleted even without --prune)`) {
			t.Errorf("prune=%v: the plan text does not mark the reserved delete:\n%s", prune, out.String())
		}
	}
}
