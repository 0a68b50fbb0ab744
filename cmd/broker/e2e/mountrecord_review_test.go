package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/apply"
)

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
func TestReviewRoleRecordDoesNotClaimRolesOnAnotherMount(t *testing.T) {
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
