package policy

import (
	"strings"
	"testing"
)

// Review finding (issue 10, item 6): mount paths in broker.hcl must be
// validated as Vault mount paths: no ".." (nor "."), no empty segment.
// mountRE's segment class [A-Za-z0-9_.-]+ lets "." and ".." through, so
// these load without error and end up in the broker's request paths, the
// reaper's lease prefixes and the discovery document served to alilogin.
func TestReviewMountPathsRejectDotSegments(t *testing.T) {
	for _, m := range []string{"..", "nomad/..", "../sys", "a/./b", ".", "nomad/../../sys/raw"} {
		for _, key := range []string{"jwt_mount", "nomad_mount", "consul_mount"} {
			broker := "sso {\n  issuer    = \"https://sso.example.org/realms/test\"\n  client_id = \"alilogin-test\"\n}\n\nvault {\n  " + key + " = \"" + m + "\"\n}\n"
			_, err := LoadFS(minimal(t, map[string]string{"broker.hcl": broker}), "p")
			if err == nil || !strings.Contains(err.Error(), "Invalid "+key) {
				t.Errorf("%s = %q: loaded (err %v), want Invalid %s", key, m, err, key)
			}
		}
	}
}
