package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/apply"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/teststack"
)

// vaultOnlyProfile is a profile that grants Vault only.
const vaultOnlyProfile = `
profile "vault-only" {
  description    = "Vault only."
  roles          = ["alice-ci-users"]
  vault_policies = ["ci-secrets-read"]
}
`

// handMadeRoles makes a nomad and a consul role called name by hand and
// returns a function that checks they are still there, unchanged.
func handMadeRoles(t *testing.T, name string) func() {
	t.Helper()
	mustDo(t, nomadC, "POST", "/v1/acl/policy/hand-made", map[string]any{"Name": "hand-made", "Description": "hand-made", "Rules": `node { policy = "read" }`}, nil)
	mustDo(t, consulC, "PUT", "/v1/acl/policy", map[string]any{"Name": "hand-made", "Description": "hand-made", "Rules": `node_prefix "" { policy = "read" }`}, nil)
	mustDo(t, vaultC, "POST", "/v1/nomad/role/"+name, map[string]any{"policies": "hand-made"}, nil)
	mustDo(t, vaultC, "POST", "/v1/consul/roles/"+name, map[string]any{"consul_policies": "hand-made", "ttl": "5m"}, nil)
	return func() {
		t.Helper()
		var n, c struct {
			Data map[string]any `json:"data"`
		}
		if err := vaultC.Do(context.Background(), "GET", "/v1/nomad/role/"+name, nil, &n); err != nil {
			t.Fatalf("hand-made nomad role %q: %v", name, err)
		}
		if err := vaultC.Do(context.Background(), "GET", "/v1/consul/roles/"+name, nil, &c); err != nil {
			t.Fatalf("hand-made consul role %q: %v", name, err)
		}
		if got := n.Data["policies"]; !cmp.Equal(got, []any{"hand-made"}) {
			t.Errorf("hand-made nomad role changed: policies %v", got)
		}
		if got := c.Data["consul_policies"]; !cmp.Equal(got, []any{"hand-made"}) || c.Data["ttl"] != float64(300) {
			t.Errorf("hand-made consul role changed: %v", c.Data)
		}
	}
}

// TestHandMadeRolesBesideVaultOnlyProfile: a profile that grants Vault only
// does not make the nomad and consul roles of its name the broker's; they
// survive apply --prune, and once the profile asks for them they are
// conflicts.
func TestHandMadeRolesBesideVaultOnlyProfile(t *testing.T) {
	setup(t)
	check := handMadeRoles(t, "vault-only")
	dir := policiesDir(t, map[string]string{"more.hcl": vaultOnlyProfile})
	if code, _, _ := broker(t, "apply", "--auto-approve", "--prune", dir); code != exitOK {
		t.Fatalf("apply --prune: exit %d", code)
	}
	check()
	if got := planKeys(t, dir, "--prune"); len(got) != 0 {
		t.Errorf("plan --prune after apply: %v", got)
	}
	// The profile removed: its JWT role and policy go, the hand-made roles stay.
	dir2 := policiesDir(t, nil)
	if code, _, _ := broker(t, "apply", "--auto-approve", "--prune", dir2); code != exitOK {
		t.Fatalf("apply --prune without the profile: exit %d", code)
	}
	check()
	if err := vaultC.Do(context.Background(), "GET", "/v1/auth/jwt/role/vault-only", nil, nil); err == nil {
		t.Error("the JWT role of the removed profile is still there")
	}

	// The profile back, now with Nomad and Consul: the hand-made roles are
	// conflicts, and nothing is written.
	withAll := strings.Replace(vaultOnlyProfile, `vault_policies = ["ci-secrets-read"]`,
		"vault_policies = [\"ci-secrets-read\"]\n  nomad_policies = [\"ci-read-jobs\"]\n  consul_policies = [\"catalog-kv-read\"]", 1)
	dir3 := policiesDir(t, map[string]string{"more.hcl": withAll})
	before := snapshot(t)
	code, out, _ := broker(t, "plan", dir3)
	if code != exitError || !strings.Contains(out, `! conflict: vault nomad role "vault-only"`) || !strings.Contains(out, `! conflict: vault consul role "vault-only"`) {
		t.Errorf("plan: exit %d, want 1 and both conflicts", code)
	}
	code, _, stderr := broker(t, "apply", "--auto-approve", "--prune", dir3)
	if code != exitError || !strings.Contains(stderr, `vault nomad role "vault-only"`) || !strings.Contains(stderr, "not managed by the broker") {
		t.Errorf("apply: exit %d, want 1 naming the conflict", code)
	}
	unchanged(t, before, "apply with conflicts")
	check()
}

// TestCopiedMarkerCopiesSurvivePrune: hand copies of managed objects under other
// names, markers and all, survive apply --prune unchanged.
func TestCopiedMarkerCopiesSurvivePrune(t *testing.T) {
	setup(t)
	dir := policiesDir(t, nil)
	applyDir(t, dir, apply.Options{})
	ctx := context.Background()

	var vp struct {
		Data struct{ Policy string } `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/sys/policies/acl/ci-secrets-read", nil, &vp)
	mustDo(t, vaultC, "PUT", "/v1/sys/policies/acl/ci-secrets-copy", map[string]any{"policy": vp.Data.Policy}, nil)
	mustDo(t, vaultC, "GET", "/v1/sys/policies/acl/alilogin-profile-ci-user", nil, &vp)
	mustDo(t, vaultC, "PUT", "/v1/sys/policies/acl/alilogin-profile-copy", map[string]any{"policy": vp.Data.Policy}, nil)
	var np struct{ Name, Description, Rules string }
	mustDo(t, nomadC, "GET", "/v1/acl/policy/ci-read-jobs", nil, &np)
	np.Name = "ci-read-jobs-copy"
	mustDo(t, nomadC, "POST", "/v1/acl/policy/ci-read-jobs-copy", np, nil)
	var cp struct{ ID, Name, Description, Rules string }
	mustDo(t, consulC, "GET", "/v1/acl/policy/name/catalog-kv-read", nil, &cp)
	mustDo(t, consulC, "PUT", "/v1/acl/policy", map[string]any{"Name": "catalog-kv-read-copy", "Description": cp.Description, "Rules": cp.Rules}, nil)
	var g struct {
		Data struct {
			Metadata map[string]string `json:"metadata"`
			Policies []string          `json:"policies"`
		} `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/identity/group/name/alilogin-role-alice-ci-admins", nil, &g)
	mustDo(t, vaultC, "POST", "/v1/identity/group/name/alilogin-role-copy", map[string]any{"type": "external", "policies": g.Data.Policies, "metadata": g.Data.Metadata}, nil)
	// A JWT role called like the copied profile policy's profile.
	mustDo(t, vaultC, "POST", "/v1/auth/jwt/role/copy", map[string]any{"role_type": "jwt", "bound_audiences": []string{"x"}, "user_claim": "sub"}, nil)

	if got := planKeys(t, dir, "--prune"); len(got) != 0 {
		t.Errorf("plan --prune lists the copies: %v", got)
	}
	if code, _, _ := broker(t, "apply", "--auto-approve", "--prune", dir); code != exitOK {
		t.Fatalf("apply --prune: exit %d", code)
	}
	for _, p := range []string{"/v1/sys/policies/acl/ci-secrets-copy", "/v1/sys/policies/acl/alilogin-profile-copy",
		"/v1/identity/group/name/alilogin-role-copy", "/v1/auth/jwt/role/copy"} {
		if err := vaultC.Do(ctx, "GET", p, nil, nil); err != nil {
			t.Errorf("copy %s: %v", p, err)
		}
	}
	mustDo(t, nomadC, "GET", "/v1/acl/policy/ci-read-jobs-copy", nil, nil)
	mustDo(t, consulC, "GET", "/v1/acl/policy/name/catalog-kv-read-copy", nil, nil)

	// A policy file of the copy's name is a conflict.
	dir2 := policiesDir(t, map[string]string{"vault/ci-secrets-copy.hcl": readFile(t, dir+"/vault/ci-secrets-read.hcl")})
	if code, out, _ := broker(t, "plan", dir2); code != exitError || !strings.Contains(out, `! conflict: vault policy "ci-secrets-copy"`) {
		t.Errorf("plan with a desired copy name: exit %d", code)
	}
}

// downgradeMarkers rewrites the marker of every managed object exactly as
// the version before markers named their objects wrote it (commit
// cc092dc): "managed by alilogin broker from <system>/<name>.hcl" as the
// Nomad and Consul description and (after "# ") the first line of a Vault
// policy, "# managed by alilogin broker: profile P (generated; edit
// policies/, not this)" for alilogin-profile-P, and managed_by = "managed
// by alilogin broker" on groups.
func downgradeMarkers(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	var l struct {
		Data struct{ Keys []string } `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/sys/policies/acl?list=true", nil, &l)
	for _, name := range l.Data.Keys {
		var p struct {
			Data struct{ Policy string } `json:"data"`
		}
		mustDo(t, vaultC, "GET", "/v1/sys/policies/acl/"+name, nil, &p)
		first, body, _ := strings.Cut(p.Data.Policy, "\n")
		if !strings.HasPrefix(first, "# managed by alilogin broker; object=") {
			continue
		}
		legacy := "# managed by alilogin broker from vault/" + name + ".hcl"
		if prof, ok := strings.CutPrefix(name, "alilogin-profile-"); ok {
			legacy = "# managed by alilogin broker: profile " + prof + " (generated; edit policies/, not this)"
		}
		mustDo(t, vaultC, "PUT", "/v1/sys/policies/acl/"+name, map[string]any{"policy": legacy + "\n" + body}, nil)
	}
	var np []struct{ Name, Description string }
	mustDo(t, nomadC, "GET", "/v1/acl/policies", nil, &np)
	for _, p := range np {
		if !strings.HasPrefix(p.Description, "managed by alilogin broker; ") {
			continue
		}
		var full struct{ Name, Description, Rules string }
		mustDo(t, nomadC, "GET", "/v1/acl/policy/"+p.Name, nil, &full)
		full.Description = "managed by alilogin broker from nomad/" + p.Name + ".hcl"
		mustDo(t, nomadC, "POST", "/v1/acl/policy/"+p.Name, full, nil)
	}
	var cp []struct{ ID, Name, Description string }
	mustDo(t, consulC, "GET", "/v1/acl/policies", nil, &cp)
	for _, p := range cp {
		if !strings.HasPrefix(p.Description, "managed by alilogin broker; ") {
			continue
		}
		var full struct{ ID, Name, Description, Rules string }
		mustDo(t, consulC, "GET", "/v1/acl/policy/"+p.ID, nil, &full)
		full.Description = "managed by alilogin broker from consul/" + p.Name + ".hcl"
		mustDo(t, consulC, "PUT", "/v1/acl/policy/"+p.ID, full, nil)
	}
	mustDo(t, vaultC, "GET", "/v1/identity/group/name?list=true", nil, &l)
	for _, name := range l.Data.Keys {
		var g struct {
			Data struct {
				Metadata map[string]string `json:"metadata"`
				Policies []string          `json:"policies"`
			} `json:"data"`
		}
		mustDo(t, vaultC, "GET", "/v1/identity/group/name/"+url.PathEscape(name), nil, &g)
		if strings.HasPrefix(g.Data.Metadata["managed_by"], "managed by alilogin broker; ") {
			if err := vaultC.Do(ctx, "POST", "/v1/identity/group/name/"+url.PathEscape(name), map[string]any{
				"type": "external", "policies": g.Data.Policies, "metadata": map[string]string{"managed_by": "managed by alilogin broker"}}, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestUpgradeFromLegacyMarkers: objects with the markers of the version
// before plan no change and no delete, also with --prune; that version's
// markers count only for their own object (a legacy copy and a hand-made
// role beside a legacy Vault-only profile policy are left alone); and the
// next real update writes the new marker.
func TestUpgradeFromLegacyMarkers(t *testing.T) {
	setup(t)
	dir := policiesDir(t, map[string]string{"more.hcl": vaultOnlyProfile})
	applyDir(t, dir, apply.Options{})
	downgradeMarkers(t)
	// What the version before could not tell apart: a copy of a policy
	// with its marker, and hand-made roles beside a Vault-only profile.
	mustDo(t, vaultC, "PUT", "/v1/sys/policies/acl/ci-secrets-copy", map[string]any{"policy": "# managed by alilogin broker from vault/ci-secrets-read.hcl\npath \"x\" {}\n"}, nil)
	mustDo(t, nomadC, "POST", "/v1/acl/policy/node-read-copy", map[string]any{"Name": "node-read-copy", "Description": "managed by alilogin broker from nomad/node-read.hcl", "Rules": `node { policy = "read" }`}, nil)
	check := handMadeRoles(t, "vault-only")
	before := snapshot(t)

	for _, extra := range [][]string{nil, {"--prune"}} {
		if got := planKeys(t, dir, extra...); len(got) != 0 {
			t.Errorf("plan %v after the upgrade: %v", extra, got)
		}
	}
	res := applyDir(t, dir, apply.Options{Prune: true})
	if n := res.TotalWrites(); n != 0 {
		t.Errorf("apply --prune after the upgrade made %d writes: %+v", n, res.Plan.Changes)
	}
	unchanged(t, before, "apply --prune after the upgrade")
	check()

	// A real change rewrites the marker in the new form.
	dir2 := policiesDir(t, map[string]string{"more.hcl": vaultOnlyProfile,
		"nomad/node-read.hcl": readFile(t, dir+"/nomad/node-read.hcl") + "\n# edited\n"})
	want := []changeKey{{plan.Update, plan.NomadPolicy, "node-read"}}
	if d := cmp.Diff(want, planKeys(t, dir2, "--prune")); d != "" {
		t.Errorf("plan of one edit (-want +got):\n%s", d)
	}
	applyDir(t, dir2, apply.Options{Prune: true})
	var np struct{ Description string }
	mustDo(t, nomadC, "GET", "/v1/acl/policy/node-read", nil, &np)
	if np.Description != "managed by alilogin broker; object=nomad/acl-policy/node-read; from nomad/node-read.hcl" {
		t.Errorf("description after the update: %q", np.Description)
	}
	mustDo(t, nomadC, "GET", "/v1/acl/policy/node-read-copy", nil, nil)
}

// TestMassPruneNeedsAllowMassDelete: apply --prune refuses a plan that
// deletes more than half of the managed objects or all of a kind, writes
// nothing, and says so; plan --prune shows the verdict;
// --allow-mass-delete carries it out.
func TestMassPruneNeedsAllowMassDelete(t *testing.T) {
	setup(t)
	applyDir(t, policiesDir(t, nil), apply.Options{})
	dir := policiesDir(t, map[string]string{"profiles.hcl": teststack.SoloProfiles})

	code, out, _ := broker(t, "plan", "--prune", "--detailed-exitcode", dir)
	if code != exitChanges || !strings.Contains(out, "! mass delete: ") || !strings.Contains(out, "every vault jwt role") || !strings.Contains(out, "--allow-mass-delete") {
		t.Errorf("plan --prune: exit %d, want %d and the guard's verdict", code, exitChanges)
	}
	_, out, _ = broker(t, "plan", "--prune", "--json", dir)
	var pj struct {
		Guard struct {
			Mass       bool        `json:"mass_delete"`
			Deletes    int         `json:"deletes"`
			WholeKinds []plan.Kind `json:"whole_kinds"`
		} `json:"guard"`
	}
	if err := json.Unmarshal([]byte(out), &pj); err != nil {
		t.Fatal(err)
	}
	if !pj.Guard.Mass || pj.Guard.Deletes != 12 || !slices.Contains(pj.Guard.WholeKinds, plan.JWTRole) {
		t.Errorf("plan --json guard: %+v", pj.Guard)
	}

	before := snapshot(t)
	code, _, stderr := broker(t, "apply", "--auto-approve", "--prune", dir)
	if code != exitError || !strings.Contains(stderr, "refusing a mass delete (12 of ") || !strings.Contains(stderr, "--allow-mass-delete") {
		t.Errorf("apply --prune of a mass delete: exit %d, want 1 and the reason", code)
	}
	unchanged(t, before, "the refused apply")
	// Without --prune nothing is deleted, so nothing to refuse.
	if code, _, _ := broker(t, "apply", "--auto-approve", dir); code != exitOK {
		t.Errorf("apply without --prune: exit %d", code)
	}
	if code, _, stderr := broker(t, "apply", "--auto-approve", "--allow-mass-delete", dir); code != exitUsage || !strings.Contains(stderr, "only means something with --prune") {
		t.Errorf("--allow-mass-delete without --prune: exit %d", code)
	}

	if code, _, _ := broker(t, "apply", "--auto-approve", "--prune", "--allow-mass-delete", dir); code != exitOK {
		t.Fatalf("apply --prune --allow-mass-delete: exit %d", code)
	}
	if err := vaultC.Do(context.Background(), "GET", "/v1/auth/jwt/role/ci-user", nil, nil); err == nil {
		t.Error("JWT role ci-user still there after the allowed mass delete")
	}
	if got := planKeys(t, dir, "--prune"); len(got) != 0 {
		t.Errorf("plan after the allowed mass delete: %v", got)
	}
}

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
func TestHandMadeGroupWithLegacyMarkerSurvivesPrune(t *testing.T) {
	setup(t)
	dir := policiesDir(t, nil)
	applyDir(t, dir, apply.Options{})
	group := handMadeGroup(t, "alilogin-role-ops-oncall", map[string]any{
		"type": "external", "policies": []string{"ci-secrets-read"}, "metadata": map[string]string{"managed_by": "managed by alilogin broker"}}, "ops-oncall")

	if _, out, _ := broker(t, "plan", "--prune", dir); !strings.Contains(out, `? vault identity group "alilogin-role-ops-oncall": legacy, not deleted; delete by hand or declare`) {
		t.Errorf("plan --prune does not report the legacy group:\n%s", out)
	}
	res, err := applyErr(t, dir, apply.Options{Prune: true})
	t.Logf("apply --prune: %v, changes %v", err, res.Plan.Changes)
	if err := vaultC.Do(context.Background(), "GET", "/v1/identity/group/id/"+group, nil, nil); err != nil {
		t.Errorf("the hand-made group alilogin-role-ops-oncall was deleted by apply --prune: %v", err)
	}
	var after struct {
		Data map[string]any `json:"data"`
	}
	_ = vaultC.Do(context.Background(), "GET", "/v1/identity/group/id/"+group, nil, &after)
	if after.Data == nil {
		t.Errorf("the hand-made group alilogin-role-ops-oncall is gone after apply --prune")
	}
}

// Review finding: the roles= record in alilogin-profile-P says which kinds
// of role P the broker made ("nomad"), not where: it names no mount. When
// broker.hcl points nomad_mount (or consul_mount, jwt_mount) at another
// mount — a migration to a new engine, a second Nomad cluster's engine —
// every role P that already exists there, made by hand, counts as the
// broker's: plan shows an update instead of a conflict, apply overwrites it,
// and apply --prune deletes those of profiles that no longer grant Nomad.
//
// Must: the record names the mount of each role (e.g.
// roles=jwt@jwt,nomad@nomad,consul@consul) and a role on another mount is
// a conflict.
func TestRoleRecordDoesNotClaimRolesOnAnotherMount(t *testing.T) {
	setup(t)
	ctx := context.Background()
	dir := policiesDir(t, nil)
	applyDir(t, dir, apply.Options{})

	if err := stack.EnableNomadEngine(ctx, "nomad-b"); err != nil && !strings.Contains(err.Error(), "already in use") {
		t.Fatal(err)
	}
	defer func() { _ = vaultC.Do(context.Background(), "DELETE", "/v1/sys/mounts/nomad-b", nil, nil) }()
	// Roles made by hand on the other engine, named like the profiles.
	for _, p := range []string{"ci-user", "ci-admin", "build-operator"} {
		mustDo(t, vaultC, "POST", "/v1/nomad-b/role/"+p, map[string]any{"policies": "hand-made", "type": "client"}, nil)
	}
	read := func(p string) any {
		var out struct {
			Data map[string]any `json:"data"`
		}
		mustDo(t, vaultC, "GET", "/v1/nomad-b/role/"+p, nil, &out)
		return out.Data["policies"]
	}
	moved := strings.Replace(readFile(t, filepath.Join(dir, "broker.hcl")), `nomad_mount        = "nomad"`, `nomad_mount        = "nomad-b"`, 1)
	if !strings.Contains(moved, "nomad-b") {
		t.Fatal("could not point nomad_mount at nomad-b")
	}
	writeFile(t, filepath.Join(dir, "broker.hcl"), moved)

	code, out, _ := broker(t, "plan", dir)
	if !strings.Contains(out, `conflict: vault nomad role "ci-user"`) {
		t.Errorf("plan (exit %d) does not report the hand-made nomad-b/role/ci-user as a conflict", code)
	}
	code, _, _ = broker(t, "apply", "--auto-approve", dir)
	t.Logf("apply: exit %d", code)
	for _, p := range []string{"ci-user", "ci-admin", "build-operator"} {
		if got := read(p); !cmp.Equal(got, []any{"hand-made"}) {
			t.Errorf("hand-made nomad-b/role/%s overwritten: policies %v", p, got)
		}
	}
}
