package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestValidateJSON: `broker validate --json` prints, on stdout only, every
// problem with its file, line, column, severity and message (exit 1), or
// the warnings and counts of valid files (exit 0).
func TestValidateJSON(t *testing.T) {
	validate := func(t *testing.T, dir string) (int, validateJSON) {
		t.Helper()
		code, out, errs := runBroker(nil, "validate", "--json", dir)
		if errs != "" {
			t.Errorf("stderr %q, want nothing: the answer is the JSON", errs)
		}
		var v validateJSON
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("stdout is no JSON: %v\n%s", err, out)
		}
		return code, v
	}

	t.Run("valid", func(t *testing.T) {
		code, got := validate(t, "../../policies")
		want := validateJSON{Dir: "../../policies", Valid: true, Diagnostics: []jsonDiagnostic{},
			Counts: &validateCounts{Profiles: 3, Roles: 1, VaultPolicies: 4, NomadPolicies: 4, ConsulPolicies: 3}}
		if diff := cmp.Diff(want, got); code != exitOK || diff != "" {
			t.Errorf("exit %d (-want +got):\n%s", code, diff)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		dir := examplePolicies(t, map[string]string{"extra.hcl": "profile \"broken\" {\n  roles = [\"r\"]\n  ttl   = \"soon\"\n  colour = \"blue\"\n}\n"})
		code, got := validate(t, dir)
		file := filepath.Join(dir, "extra.hcl")
		if code != exitError || got.Valid || got.Counts != nil || len(got.Diagnostics) != 2 {
			t.Fatalf("exit %d, %+v; want 1 and two errors", code, got)
		}
		ttl := got.Diagnostics[0]
		if ttl.File != file || ttl.Line != 3 || ttl.Column != 11 || ttl.Severity != "error" || !strings.Contains(ttl.Message, `"soon"`) || ttl.Message != ttl.Summary+": "+ttl.Detail {
			t.Errorf("ttl diagnostic: %+v", ttl)
		}
		if d := got.Diagnostics[1]; d.File != file || d.Line != 4 || d.Severity != "error" || !strings.Contains(d.Message, "colour") {
			t.Errorf("attribute diagnostic: %+v", d)
		}
	})
	t.Run("warnings", func(t *testing.T) {
		dir := examplePolicies(t, map[string]string{"vault/unused.hcl": "path \"kv/data/x\" {\n  capabilities = [\"read\"]\n}\n"})
		code, got := validate(t, dir)
		want := []jsonDiagnostic{{File: filepath.Join(dir, "vault/unused.hcl"), Line: 1, Column: 1, Severity: "warning",
			Summary: `vault policy "unused" is not used by any profile or role; it is applied all the same`,
			Message: `vault policy "unused" is not used by any profile or role; it is applied all the same`}}
		if diff := cmp.Diff(want, got.Diagnostics); code != exitOK || !got.Valid || diff != "" {
			t.Errorf("exit %d, valid %v (-want +got):\n%s", code, got.Valid, diff)
		}
	})
	t.Run("no folder", func(t *testing.T) {
		code, got := validate(t, "testdata/nope")
		if code != exitError || got.Valid || len(got.Diagnostics) != 1 || got.Diagnostics[0].File != "testdata/nope" ||
			got.Diagnostics[0].Severity != "error" || !strings.Contains(got.Diagnostics[0].Message, "could not read policies directory") {
			t.Errorf("exit %d, %+v", code, got)
		}
	})
}
