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

// Review finding (low): only the top-level *.hcl files and
// vault/, nomad/ and consul/ are read; *.hcl files anywhere else (a
// profiles.d/ folder an admin made to split the profiles, vault/team/x.hcl)
// are skipped without an error or a warning, so their profiles are planned
// as deletes with no word of why. "Nothing is ever skipped silently."
func TestReviewHCLInOtherFoldersIsNotSkippedSilently(t *testing.T) {
	for _, extra := range []string{"profiles.d/more.hcl", "vault/team/more.hcl"} {
		fs := minimal(t, map[string]string{extra: `profile "more" {
  roles = ["more"]
}
`})
		cfg, err := LoadFS(fs, "p")
		if err != nil {
			t.Logf("%s: %v", extra, err)
			continue // an error names it: fine
		}
		found := false
		for _, w := range cfg.Warnings {
			if strings.Contains(w, extra) || strings.Contains(w, strings.Split(extra, "/")[0]) && strings.Contains(w, "more") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: skipped with no error and no warning (warnings %q)", extra, cfg.Warnings)
		}
	}
}
