package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Review 2 finding (low): "nothing is ever skipped silently" — the warning
// about *.hcl files in other folders (others) misses two common layouts:
//   - profiles.d/ that is a symbolic link to a folder (configuration
//     management deploys that way, the very reason links to files are
//     followed): WalkDir does not follow it, so its *.hcl are skipped
//     with no word;
//   - a file whose extension is not exactly lowercase (more.HCL,
//     vault/x.Hcl): neither read nor warned about.
//
// With --prune, their profiles are planned as deletes with no warning.
func TestReview2SkippedHCLIsWarnedAbout(t *testing.T) {
	profile := "profile \"more\" {\n  roles = [\"more\"]\n}\n"
	cases := map[string]func(t *testing.T, dir string){
		"profiles.d -> folder": func(t *testing.T, dir string) {
			other := t.TempDir()
			if err := os.WriteFile(filepath.Join(other, "more.hcl"), []byte(profile), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(other, filepath.Join(dir, "profiles.d")); err != nil {
				t.Fatal(err)
			}
		},
		"more.HCL": func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "more.HCL"), []byte(profile), 0o644); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS("testdata/minimal")); err != nil {
				t.Fatal(err)
			}
			setup(t, dir)
			cfg, err := Load(dir)
			if err != nil {
				t.Logf("error names it: %v", err)
				return
			}
			for _, w := range cfg.Warnings {
				if strings.Contains(w, "more") || strings.Contains(w, "profiles.d") {
					return
				}
			}
			t.Errorf("%s: skipped with no error and no warning (warnings %q)", name, cfg.Warnings)
		})
	}
}
