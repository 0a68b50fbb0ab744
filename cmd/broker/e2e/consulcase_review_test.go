package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/apiclient"
)

// Review finding (low): Consul compares ACL policy names without case, the
// broker by exact name. A hand-made Consul policy whose name differs from a
// desired one only in case is not a conflict in the plan; apply then fails
// half-way (Consul refuses the create: "A Policy with Name ... already
// exists") after it has written the other phase-1 objects, instead of
// naming the conflict and writing nothing.
func TestReviewCaseVariantConsulPolicyIsConflict(t *testing.T) {
	setup(t)
	mustDo(t, consulC, "PUT", "/v1/acl/policy", map[string]any{"Name": "Catalog-KV-Read", "Description": "hand-made", "Rules": `node_prefix "" { policy = "read" }`}, nil)
	dir := policiesDir(t, nil)
	code, out, _ := broker(t, "plan", dir)
	if !strings.Contains(out, "conflict") {
		t.Errorf("plan (exit %d) shows no conflict for the hand-made Consul policy Catalog-KV-Read", code)
	}
	code, _, stderr := broker(t, "apply", "--auto-approve", dir)
	t.Logf("apply: exit %d: %s", code, stderr)
	err := nomadC.Do(context.Background(), "GET", "/v1/acl/policy/ci-read-jobs", nil, nil)
	if apiclient.StatusOf(err) != 404 {
		t.Errorf("apply wrote Nomad policy ci-read-jobs (err %v) although a desired object's name is taken", err)
	}
}
