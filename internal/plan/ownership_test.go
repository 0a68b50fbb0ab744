package plan

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/policy"
)

var mounts = policy.Vault{JWTMount: "jwt", NomadMount: "nomad", ConsulMount: "consul"}

// legacy* are the markers exactly as the version before markers named
// their objects wrote them (commit cc092dc, internal/plan/desired.go).
func legacyVaultPolicy(file, rules string) string {
	return "# managed by alilogin broker from " + file + "\n" + rules
}

func legacyProfilePolicy(p string, nomad, consul bool) string {
	s := "# managed by alilogin broker: profile " + p + " (generated; edit policies/, not this)\n"
	for _, m := range []struct {
		mount string
		used  bool
	}{{"nomad", nomad}, {"consul", consul}} {
		if m.used {
			s += `path "` + m.mount + `/creds/` + p + "\" {\n  capabilities = [\"read\"]\n}\n"
			s += `path "sys/leases/revoke/` + m.mount + `/creds/` + p + "/*\" {\n  capabilities = [\"update\"]\n}\n"
		}
	}
	return s
}

func TestDescriptionOwned(t *testing.T) {
	tests := []struct {
		name       string
		kind       Kind
		policy     string
		desc       string
		wantManage bool
	}{
		{"new marker naming it", NomadPolicy, "n", Description(NomadPolicy, "n"), true},
		{"new marker of consul", ConsulPolicy, "c", Description(ConsulPolicy, "c"), true},
		{"copy: new marker naming another policy", NomadPolicy, "copy", Description(NomadPolicy, "n"), false},
		{"copy: new marker of the other system", ConsulPolicy, "n", Description(NomadPolicy, "n"), false},
		{"legacy marker naming its file", NomadPolicy, "n", "managed by alilogin broker from nomad/n.hcl", true},
		{"legacy marker of consul", ConsulPolicy, "c", "managed by alilogin broker from consul/c.hcl", true},
		{"copy: legacy marker naming another file", NomadPolicy, "copy", "managed by alilogin broker from nomad/n.hcl", false},
		{"copy: legacy marker of the other system", ConsulPolicy, "n", "managed by alilogin broker from nomad/n.hcl", false},
		{"legacy marker with text added", NomadPolicy, "n", "managed by alilogin broker from nomad/n.hcl (copied)", false},
		{"bare marker prefix", NomadPolicy, "n", "managed by alilogin broker", false},
		{"hand-made", NomadPolicy, "n", "hand-made", false},
		{"empty", NomadPolicy, "n", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DescriptionOwned(tc.kind, tc.policy, tc.desc); got != tc.wantManage {
				t.Errorf("DescriptionOwned(%s %q, %q) = %v", tc.kind, tc.policy, tc.desc, got)
			}
		})
	}
	if d := Description(NomadPolicy, strings.Repeat("a", 64)); len(d) > 256 {
		t.Errorf("description of a 64-character name is %d bytes; Nomad takes 256", len(d))
	}
}

func TestVaultPolicyOwner(t *testing.T) {
	ci := Fields{"policy": "path \"x\" {}\n", "roles": []string{"consul@consul", "jwt@jwt", "nomad@nomad"}}
	tests := []struct {
		name, policy, text string
		managed            bool
		body               string
		roles              []string
	}{
		{"new marker of a file policy", "v", VaultPolicyText("v", Fields{"policy": "path \"x\" {}\n"}), true, "path \"x\" {}\n", nil},
		{"copy of a file policy under another name", "copy", VaultPolicyText("v", Fields{"policy": "path \"x\" {}\n"}), false, "path \"x\" {}\n", nil},
		{"new marker of a profile policy lists its roles", "alilogin-profile-ci", VaultPolicyText("alilogin-profile-ci", ci), true, "path \"x\" {}\n", []string{"consul@consul", "jwt@jwt", "nomad@nomad"}},
		{"copy of a profile policy under another profile's name", "alilogin-profile-x", VaultPolicyText("alilogin-profile-ci", ci), false, "path \"x\" {}\n", nil},
		{"copy of a profile policy under a plain name", "x", VaultPolicyText("alilogin-profile-ci", ci), false, "path \"x\" {}\n", nil},
		{"unknown role words are ignored", "alilogin-profile-ci",
			"# managed by alilogin broker; object=vault/policy/alilogin-profile-ci; roles=jwt@jwt,root@x,nomad@nomad\n", true, "", []string{"jwt@jwt", "nomad@nomad"}},
		{"a record without mounts keeps a nomad role only where its policy reads that mount's creds", "alilogin-profile-ci",
			"# managed by alilogin broker; object=vault/policy/alilogin-profile-ci; roles=jwt,nomad,consul\n" + legacyRoleBlock("nomad", "ci"), true, legacyRoleBlock("nomad", "ci"), []string{"jwt@jwt", "nomad@nomad"}},
		{"legacy file policy", "v", legacyVaultPolicy("vault/v.hcl", "path \"x\" {}\n"), true, "path \"x\" {}\n", nil},
		{"legacy copy under another name", "copy", legacyVaultPolicy("vault/v.hcl", "path \"x\" {}\n"), false, "path \"x\" {}\n", nil},
		{"legacy marker of another system", "v", legacyVaultPolicy("nomad/v.hcl", ""), false, "", nil},
		{"legacy vault-only profile policy owns its JWT role only", "alilogin-profile-p", legacyProfilePolicy("p", false, false), true, "", []string{"jwt@jwt"}},
		{"legacy profile policy owns the roles it reads creds of", "alilogin-profile-p", legacyProfilePolicy("p", true, true),
			true, strings.SplitN(legacyProfilePolicy("p", true, true), "\n", 2)[1], []string{"consul@consul", "jwt@jwt", "nomad@nomad"}},
		{"legacy nomad-only", "alilogin-profile-p", legacyProfilePolicy("p", true, false),
			true, strings.SplitN(legacyProfilePolicy("p", true, false), "\n", 2)[1], []string{"jwt@jwt", "nomad@nomad"}},
		{"legacy copy of another profile's policy", "alilogin-profile-x", legacyProfilePolicy("p", true, true),
			false, strings.SplitN(legacyProfilePolicy("p", true, true), "\n", 2)[1], nil},
		{"legacy file marker on a profile policy name", "alilogin-profile-p", legacyVaultPolicy("vault/alilogin-profile-p.hcl", ""), false, "", nil},
		{"hand-made", "v", "path \"x\" {}\n", false, "", nil},
		{"marker not on the first line", "v", "\n# " + MarkerFor(VaultPolicy, "v") + "\n", false, "# " + MarkerFor(VaultPolicy, "v") + "\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := VaultPolicyOwner(tc.policy, tc.text, mounts)
			managed, body, roles := o.Managed, o.Body, o.Roles
			if managed != tc.managed || body != tc.body || !cmp.Equal(roles, tc.roles) {
				t.Errorf("VaultPolicyOwner(%q) = %v, %q, %v; want %v, %q, %v", tc.policy, managed, body, roles, tc.managed, tc.body, tc.roles)
			}
		})
	}
}

func TestGroupOwned(t *testing.T) {
	tests := []struct {
		name, group, managedBy, typ, alias string
		onMount, want                      bool
	}{
		{"new marker", "alilogin-role-a", GroupMarker("alilogin-role-a"), "external", "a", true, true},
		{"new marker, alias not yet made", "alilogin-role-a", GroupMarker("alilogin-role-a"), "external", "", false, true},
		{"copy with the new marker", "alilogin-role-b", GroupMarker("alilogin-role-a"), "external", "", false, false},
		{"legacy group with its alias", "alilogin-role-a", Marker, "external", "a", true, true},
		{"legacy group of a mixed-case role", "alilogin-role-ci-admins", Marker, "external", "CI-Admins", true, true},
		{"legacy copy without the alias", "alilogin-role-b", Marker, "external", "", false, false},
		{"legacy copy with another alias", "alilogin-role-b", Marker, "external", "a", true, false},
		{"legacy marker, alias on another mount", "alilogin-role-a", Marker, "external", "a", false, false},
		{"legacy marker on an internal group", "alilogin-role-a", Marker, "internal", "", false, false},
		{"no marker", "alilogin-role-a", "", "external", "a", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := GroupOwned(tc.group, tc.managedBy, tc.typ, tc.alias, tc.onMount); got != tc.want {
				t.Errorf("GroupOwned = %v, want %v", got, tc.want)
			}
		})
	}
}

// live builds the live Vault policies and roles as the reader does: a
// policy is managed by its marker; a role when its profile policy lists
// it; unmanaged objects are listed only when a desired one has their name.
func live(desired []Object, policies map[string]string, roles []Key) []Object {
	want := map[Key]bool{}
	for _, d := range desired {
		want[d.Key()] = true
	}
	var out []Object
	claims := map[string][]string{}
	for name, text := range policies {
		o := VaultPolicyOwner(name, text, mounts)
		managed, body, rs := o.Managed, o.Body, o.Roles
		if !managed && !want[Key{VaultPolicy, name}] {
			continue
		}
		f := Fields{"policy": body}
		if p, ok := policy.ProfileOfPolicy(name); ok && managed {
			f["roles"], claims[p] = rs, rs
		}
		out = append(out, Object{Kind: VaultPolicy, Name: name, Managed: managed, Fields: f})
	}
	for _, r := range roles {
		switch {
		case RoleOwned(claims, mounts, r.Kind, r.Name):
			out = append(out, Object{Kind: r.Kind, Name: r.Name, Managed: true, Mount: RoleMount(mounts, r.Kind), Fields: Fields{}})
		case want[r]:
			out = append(out, Object{Kind: r.Kind, Name: r.Name})
		}
	}
	SortObjects(out)
	return out
}

func vaultOnly(cfg *policy.Config) *policy.Config {
	cfg.Profiles = cfg.Profiles[1:] // vault-only
	cfg.Roles, cfg.NomadPolicies, cfg.ConsulPolicies = nil, nil, nil
	return cfg
}

// TestRolesOwnedByRecordNotByName: a Vault-only profile's policy lists
// only its JWT role, so hand-made nomad and consul roles of its name are
// neither deleted nor changed, and they are conflicts once the profile
// asks for them.
func TestRolesOwnedByRecordNotByName(t *testing.T) {
	handMade := []Key{{JWTRole, "vault-only"}, {NomadRole, "vault-only"}, {ConsulRole, "vault-only"}}
	for _, marker := range []string{"new", "legacy"} {
		t.Run(marker, func(t *testing.T) {
			text := VaultPolicyText("alilogin-profile-vault-only", Fields{"policy": "", "roles": []string{"jwt@jwt"}})
			if marker == "legacy" {
				text = legacyProfilePolicy("vault-only", false, false)
			}
			pols := map[string]string{"alilogin-profile-vault-only": text, "v": VaultPolicyText("v", Fields{"policy": "path \"x\" {}\n"})}

			// The profile stays Vault-only: nothing to do, with or without prune.
			desired := Desired(vaultOnly(alice()))
			for _, prune := range []bool{false, true} {
				p := Diff(desired, live(desired, pols, handMade), prune)
				for _, c := range p.Changes {
					if c.Kind == NomadRole || c.Kind == ConsulRole {
						t.Errorf("prune=%v: %s of a hand-made role", prune, c)
					}
				}
				if len(p.Conflicts) != 0 {
					t.Errorf("conflicts: %v", p.Conflicts)
				}
			}

			// The profile is removed: its JWT role and policy go, the
			// hand-made roles stay.
			cfg := vaultOnly(alice())
			cfg.Profiles = nil
			desired = Desired(cfg)
			got := keys(Diff(desired, live(desired, pols, handMade), true))
			want := []key{{Delete, JWTRole, "vault-only"}, {Delete, VaultPolicy, "alilogin-profile-vault-only"}}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("prune of the profile (-want +got):\n%s", d)
			}

			// The profile now grants Nomad: the hand-made nomad role is a
			// conflict.
			cfg = vaultOnly(alice())
			cfg.Profiles[0].NomadPolicies = []string{"n"}
			cfg.NomadPolicies = alice().NomadPolicies
			desired = Desired(cfg)
			p := Diff(desired, live(desired, pols, handMade), true)
			if d := cmp.Diff([]Conflict{{Kind: NomadRole, Name: "vault-only", Reason: p.Conflicts[0].Reason}}, p.Conflicts); d != "" {
				t.Errorf("conflicts (-want +got):\n%s", d)
			}
		})
	}
}

// TestCopiedMarkerIsNotManaged: a copy of a managed policy under another
// name, marker and all, is neither deleted nor updated, and a desired
// policy of the copy's name is a conflict.
func TestCopiedMarkerIsNotManaged(t *testing.T) {
	desired := Desired(alice())
	for _, tc := range []struct {
		name string
		text string
	}{
		{"new marker", VaultPolicyText("v", Fields{"policy": "path \"x\" {}\n"})},
		{"legacy marker", legacyVaultPolicy("vault/v.hcl", "path \"x\" {}\n")},
		{"profile policy, new marker", VaultPolicyText("alilogin-profile-ci", Fields{"policy": "", "roles": []string{"consul@consul", "jwt@jwt", "nomad@nomad"}})},
		{"profile policy, legacy marker", legacyProfilePolicy("ci", true, true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pols := map[string]string{"v-copy": tc.text, "alilogin-profile-copy": tc.text}
			roles := []Key{{JWTRole, "copy"}, {NomadRole, "copy"}}
			for _, c := range Diff(desired, live(desired, pols, roles), true).Changes {
				if strings.Contains(c.Name, "copy") {
					t.Errorf("%s", c)
				}
			}
			// Desired under the copy's name: a conflict.
			cfg := alice()
			cfg.VaultPolicies = append(cfg.VaultPolicies, policy.Document{Name: "v-copy", File: "vault/v-copy.hcl", Rules: "path \"x\" {}\n"})
			d := Desired(cfg)
			if p := Diff(d, live(d, pols, roles), true); len(p.Conflicts) != 1 || p.Conflicts[0].Name != "v-copy" {
				t.Errorf("conflicts: %v", p.Conflicts)
			}
		})
	}
}

// TestUpgradeFromLegacyMarkersUpdatesOnlyProfilePolicies: objects exactly
// as the version before wrote them are recognised: they plan no delete,
// no conflict and no change but the policies of the profiles with Nomad
// or Consul tokens (whose lease rules are now in the path form with
// their parameters limited, ProfileRules).
func TestUpgradeFromLegacyMarkersUpdatesOnlyProfilePolicies(t *testing.T) {
	cfg := alice()
	desired := Desired(cfg)
	var lv []Object
	for _, d := range desired {
		o := Object{Kind: d.Kind, Name: d.Name, Managed: true, Fields: d.Fields}
		switch d.Kind {
		case NomadPolicy, ConsulPolicy:
			desc := "managed by alilogin broker from " + string(d.Kind.System()) + "/" + d.Name + ".hcl"
			o.Managed = DescriptionOwned(d.Kind, d.Name, desc)
		case VaultPolicy:
			var text string
			if p, ok := policy.ProfileOfPolicy(d.Name); ok {
				pr, _ := cfg.Profile(p)
				text = legacyProfilePolicy(p, len(pr.NomadPolicies) > 0, len(pr.ConsulPolicies) > 0)
			} else {
				text = legacyVaultPolicy("vault/"+d.Name+".hcl", d.Fields["policy"].(string))
			}
			ow := VaultPolicyOwner(d.Name, text, mounts)
			managed, body, roles := ow.Managed, ow.Body, ow.Roles
			o.Managed, o.Fields = managed, Fields{"policy": body}
			if roles != nil {
				o.Fields["roles"] = roles
			}
		case Group:
			o.Managed = GroupOwned(d.Name, Marker, "external", d.Fields["alias"].(string), true)
		}
		lv = append(lv, o)
	}
	for _, prune := range []bool{false, true} {
		p := Diff(desired, lv, prune)
		if len(p.Conflicts) != 0 || len(p.Legacy) != 0 {
			t.Errorf("prune=%v: conflicts %v, legacy kept %v", prune, p.Conflicts, p.Legacy)
		}
		n := 0
		for _, c := range p.Changes {
			if _, ok := policy.ProfileOfPolicy(c.Name); !ok || c.Kind != VaultPolicy || c.Action != Update {
				t.Errorf("prune=%v: upgrade plans %s", prune, c)
			}
			n++
		}
		leased := 0
		for _, pr := range cfg.Profiles {
			if len(pr.NomadPolicies)+len(pr.ConsulPolicies) > 0 {
				leased++
			}
		}
		if n != leased {
			t.Errorf("prune=%v: upgrade plans %v; want an update of the policy of each profile with leases", prune, keys(p))
		}
	}
}

func TestMarkersRoundTrip(t *testing.T) {
	for _, name := range []string{"v", "alilogin-profile-p"} {
		f := Fields{"policy": "path \"a\" {}\n"}
		if name != "v" {
			f["roles"] = []string{"consul@consul", "jwt@jwt"}
		}
		o := VaultPolicyOwner(name, VaultPolicyText(name, f), mounts)
		managed, body, roles := o.Managed, o.Body, o.Roles
		if !managed || body != f["policy"] || (name != "v" && !cmp.Equal(roles, f["roles"])) {
			t.Errorf("%s: %v %q %v", name, managed, body, roles)
		}
	}
	if !GroupOwned("alilogin-role-a", GroupMarker("alilogin-role-a"), "external", "a", true) {
		t.Error("group marker")
	}
}

// TestProfileRolesRecord: the profile policy lists a role before it is
// created and until after it is deleted.
func TestProfileRolesRecord(t *testing.T) {
	const pp = "alilogin-profile-ci"
	lpol := func(roles ...string) Object {
		return Object{Kind: VaultPolicy, Name: pp, Managed: true, Fields: Fields{"policy": "", "roles": roles}}
	}
	role := func(k Kind) Object {
		return Object{Kind: k, Name: "ci", Managed: true, Mount: RoleMount(mounts, k), Fields: Fields{}}
	}
	dpol := func(roles ...string) Object {
		return Object{Kind: VaultPolicy, Name: pp, Fields: Fields{"policy": "", "roles": roles}}
	}
	type step struct {
		Rank    int
		Action  Action
		Kind    Kind
		Roles   []string
		Interim []string
	}
	steps := func(p Plan) []step {
		out := []step{}
		for _, c := range p.Changes {
			s := step{Rank: c.Rank(), Action: c.Action, Kind: c.Kind}
			if c.Desired != nil {
				s.Roles, _ = c.Desired.Fields["roles"].([]string)
			}
			if c.Interim != nil {
				s.Interim, _ = c.Interim.Fields["roles"].([]string)
			}
			out = append(out, s)
		}
		return out
	}
	tests := []struct {
		name          string
		desired, live []Object
		prune         bool
		want          []step
	}{
		{"create: listed (pending) before the roles, confirmed after",
			[]Object{dpol("jwt@jwt", "nomad@nomad"), {Kind: NomadRole, Name: "ci"}, {Kind: JWTRole, Name: "ci"}}, nil, true,
			[]step{{3, Create, NomadRole, nil, nil}, {4, Create, JWTRole, nil, nil}, {10, Create, VaultPolicy, []string{"jwt@jwt", "nomad@nomad"}, []string{"jwt@jwt", "nomad@nomad"}}}},
		{"a role added: listed (pending) first, confirmed after",
			[]Object{dpol("jwt@jwt", "nomad@nomad"), {Kind: NomadRole, Name: "ci"}}, []Object{lpol("jwt@jwt")}, true,
			[]step{{3, Create, NomadRole, nil, nil}, {10, Update, VaultPolicy, []string{"jwt@jwt", "nomad@nomad"}, []string{"jwt@jwt", "nomad@nomad"}}}},
		{"a role removed with prune: unlisted after its delete",
			[]Object{dpol("jwt@jwt")}, []Object{lpol("jwt@jwt", "nomad@nomad"), role(NomadRole)}, true,
			[]step{{7, Delete, NomadRole, nil, nil}, {10, Update, VaultPolicy, []string{"jwt@jwt"}, nil}}},
		{"a role removed without prune: stays listed while it stays",
			[]Object{dpol("jwt@jwt")}, []Object{lpol("jwt@jwt", "nomad@nomad"), role(NomadRole)}, false,
			[]step{{7, Delete, NomadRole, nil, nil}}},
		{"one role for another: both listed, then the old one unlisted",
			[]Object{dpol("consul@consul", "jwt@jwt"), {Kind: ConsulRole, Name: "ci"}}, []Object{lpol("jwt@jwt", "nomad@nomad"), role(NomadRole)}, true,
			[]step{{3, Create, ConsulRole, nil, nil}, {7, Delete, NomadRole, nil, nil},
				{10, Update, VaultPolicy, []string{"consul@consul", "jwt@jwt"}, []string{"consul@consul", "jwt@jwt", "nomad@nomad"}}}},
		{"a listed role that is gone is unlisted, even without prune",
			[]Object{dpol("jwt@jwt")}, []Object{lpol("jwt@jwt", "nomad@nomad")}, false,
			[]step{{10, Update, VaultPolicy, []string{"jwt@jwt"}, nil}}},
		{"profile removed: roles deleted before the record",
			nil, []Object{lpol("jwt@jwt", "nomad@nomad"), role(NomadRole), role(JWTRole)}, true,
			[]step{{6, Delete, JWTRole, nil, nil}, {7, Delete, NomadRole, nil, nil}, {8, Delete, VaultPolicy, nil, nil}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, steps(Diff(tc.desired, tc.live, tc.prune))); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestGuard(t *testing.T) {
	objs := func(k Kind, n int) []Object {
		var out []Object
		for i := range n {
			out = append(out, Object{Kind: k, Name: string(rune('a' + i)), Managed: true, Fields: Fields{}})
		}
		return out
	}
	cat := func(l ...[]Object) []Object {
		var out []Object
		for _, o := range l {
			out = append(out, o...)
		}
		return out
	}
	tests := []struct {
		name          string
		desired, live []Object
		want          Guard
	}{
		{"nothing", nil, nil, Guard{WholeKinds: []Kind{}}},
		{"half is not more than half", cat(objs(NomadPolicy, 2), objs(ConsulPolicy, 1)), cat(objs(NomadPolicy, 2), objs(ConsulPolicy, 4)),
			Guard{Managed: 6, Deletes: 3, WholeKinds: []Kind{}}},
		{"more than half", objs(NomadPolicy, 1), cat(objs(NomadPolicy, 2), objs(ConsulPolicy, 2)),
			Guard{Managed: 4, Deletes: 3, WholeKinds: []Kind{ConsulPolicy}, Mass: true}},
		{"every object of a kind", cat(objs(NomadPolicy, 5), objs(VaultPolicy, 5)), cat(objs(NomadPolicy, 5), objs(VaultPolicy, 5), objs(Group, 2)),
			Guard{Managed: 12, Deletes: 2, WholeKinds: []Kind{Group}, Mass: true}},
		{"the only object of a kind is not a mass delete by itself", cat(objs(NomadPolicy, 5), objs(VaultPolicy, 5)), cat(objs(NomadPolicy, 5), objs(VaultPolicy, 5), objs(Group, 1)),
			Guard{Managed: 11, Deletes: 1, WholeKinds: []Kind{}}},
		{"the only managed object", nil, objs(Group, 1), Guard{Managed: 1, Deletes: 1, WholeKinds: []Kind{}, Mass: true}},
		{"a folder that declares nothing", nil, cat(objs(NomadPolicy, 1), objs(VaultPolicy, 1), objs(JWTRole, 1)),
			Guard{Managed: 3, Deletes: 3, WholeKinds: []Kind{}, Mass: true}},
		{"unmanaged objects do not count", objs(NomadPolicy, 1), append(objs(NomadPolicy, 1), Object{Kind: NomadPolicy, Name: "x"}, Object{Kind: NomadPolicy, Name: "y"}),
			Guard{Managed: 1, WholeKinds: []Kind{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, Diff(tc.desired, tc.live, true).Guard()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	var b strings.Builder
	Write(&b, Diff(nil, objs(Group, 2), true), true)
	if !strings.Contains(b.String(), "! mass delete: 2 of 2 managed objects would be deleted, every vault identity group.") ||
		!strings.Contains(b.String(), "--allow-mass-delete") {
		t.Errorf("plan output:\n%s", b.String())
	}
}

// TestLegacyOnlyObjectsAreNotDeleted: an object whose only claim is a
// legacy marker and that the files do not declare is never deleted, not
// counted by the guard, and reported.
func TestLegacyOnlyObjectsAreNotDeleted(t *testing.T) {
	live := []Object{
		{Kind: Group, Name: "alilogin-role-ops-oncall", Managed: true, Legacy: true, Fields: Fields{}},
		{Kind: Group, Name: "alilogin-role-gone", Managed: true, Fields: Fields{}},
	}
	p := Diff(nil, live, true)
	if d := cmp.Diff([]key{{Delete, Group, "alilogin-role-gone"}}, keys(p)); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]Key{{Group, "alilogin-role-ops-oncall"}}, p.Legacy); d != "" {
		t.Errorf("legacy (-want +got):\n%s", d)
	}
	if g := p.Guard(); g.Managed != 1 {
		t.Errorf("guard counts %d managed objects, want 1 (legacy-only ones cannot be deleted)", g.Managed)
	}
	var b strings.Builder
	Write(&b, p, true)
	if !strings.Contains(b.String(), `? vault identity group "alilogin-role-ops-oncall": legacy, not deleted; delete by hand or declare`) {
		t.Errorf("plan output:\n%s", b.String())
	}
}
