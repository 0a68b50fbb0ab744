package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// "Nothing is ever skipped silently": the warning about *.hcl files in other folders (others) misses two common layouts:
//   - profiles.d/ that is a symbolic link to a folder (configuration
//     management deploys that way, the very reason links to files are
//     followed): WalkDir does not follow it, so its *.hcl are skipped
//     with no word;
//   - a file whose extension is not exactly lowercase (more.HCL,
//     vault/x.Hcl): neither read nor warned about;
//   - vault/ as a link to a folder (read through the link) holding a
//     subfolder team/ with *.hcl in it.
//
// With --prune, their profiles are planned as deletes with no warning.
func TestSkippedHCLIsWarnedAbout(t *testing.T) {
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
		"vault/more.Hcl": func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "vault", "more.Hcl"), []byte("path \"x\" {}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		"vault -> folder with team/more.hcl": func(t *testing.T, dir string) {
			linkVault(t, dir)
			if err := os.Mkdir(filepath.Join(dir, "vault", "team"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "vault", "team", "more.hcl"), []byte("path \"x\" {}\n"), 0o644); err != nil {
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

// linkVault makes dir/vault a symbolic link to a copy of it elsewhere.
func linkVault(t *testing.T, dir string) {
	t.Helper()
	other := filepath.Join(t.TempDir(), "vault")
	if err := os.Rename(filepath.Join(dir, "vault"), other); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, filepath.Join(dir, "vault")); err != nil {
		t.Fatal(err)
	}
}

// vault, nomad and consul as links to folders are read through the link,
// with no warning; a hidden link to a folder (.git) is not warned about.
func TestLinkedSystemFolderIsReadWithoutWarning(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/minimal")); err != nil {
		t.Fatal(err)
	}
	want, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	linkVault(t, dir)
	if err := os.Symlink(t.TempDir(), filepath.Join(dir, ".git")); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings %q, want none", cfg.Warnings)
	}
	if len(cfg.VaultPolicies) != len(want.VaultPolicies) {
		t.Errorf("read %d vault policies through the link, want %d", len(cfg.VaultPolicies), len(want.VaultPolicies))
	}
}
