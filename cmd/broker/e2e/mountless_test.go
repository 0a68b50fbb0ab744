package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/apply"
)

// TestUpgradeFromRecordsWithoutMounts: profile policies whose roles= record
// names no mounts (the record's first form) plan no change after the
// upgrade; a JWT role such a record lists counts as the broker's only
// while its token policies name the profile's policy (a record without
// mounts does not say which JWT mount it meant).
func TestUpgradeFromRecordsWithoutMounts(t *testing.T) {
	setup(t)
	dir := policiesDir(t, map[string]string{"more.hcl": vaultOnlyProfile})
	applyDir(t, dir, apply.Options{})
	var l struct {
		Data struct{ Keys []string } `json:"data"`
	}
	mustDo(t, vaultC, "GET", "/v1/sys/policies/acl?list=true", nil, &l)
	mounts := regexp.MustCompile(`@[^,;]*`)
	n := 0
	for _, name := range l.Data.Keys {
		if !strings.HasPrefix(name, "alilogin-profile-") {
			continue
		}
		var p struct {
			Data struct{ Policy string } `json:"data"`
		}
		mustDo(t, vaultC, "GET", "/v1/sys/policies/acl/"+name, nil, &p)
		first, body, _ := strings.Cut(p.Data.Policy, "\n")
		old := mounts.ReplaceAllString(first, "")
		if old == first || strings.Contains(first, "pending=") {
			t.Fatalf("%s: unexpected record %q", name, first)
		}
		mustDo(t, vaultC, "PUT", "/v1/sys/policies/acl/"+name, map[string]any{"policy": old + "\n" + body}, nil)
		n++
	}
	if n == 0 {
		t.Fatal("no profile policy")
	}
	for _, extra := range [][]string{nil, {"--prune"}} {
		if got := planKeys(t, dir, extra...); len(got) != 0 {
			t.Errorf("plan %v with records without mounts: %v", extra, got)
		}
	}

	// The JWT role no longer names its profile's policy: with a record
	// that does not say which mount it meant, it is not the broker's.
	mustDo(t, vaultC, "POST", "/v1/auth/jwt/role/ci-user", map[string]any{"role_type": "jwt", "token_policies": []string{"hand-made"}}, nil)
	code, out, _ := broker(t, "plan", dir)
	if !strings.Contains(out, `conflict: vault jwt role "ci-user"`) {
		t.Errorf("plan (exit %d) claims a JWT role that does not name alilogin-profile-ci-user:\n%s", code, out)
	}
}
