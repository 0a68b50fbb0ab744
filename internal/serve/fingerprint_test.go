package serve

import (
	"os"
	"path/filepath"
	"testing"
)

// Links, as configuration management deploys: a linked file or folder is
// hashed by what it points at, so a change behind a link shows; a broken
// link is left to policy.Load to report where it is.
func TestFingerprintFollowsLinks(t *testing.T) {
	dir, elsewhere := t.TempDir(), t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		t.Helper()
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	must := func(h string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	write(filepath.Join(elsewhere, "profiles.hcl"), "a")
	must("", os.Mkdir(filepath.Join(elsewhere, "nomad"), 0o755))
	write(filepath.Join(elsewhere, "nomad", "x.hcl"), "b")
	link(filepath.Join(elsewhere, "profiles.hcl"), filepath.Join(dir, "profiles.hcl"))
	link(filepath.Join(elsewhere, "nomad"), filepath.Join(dir, "nomad"))

	h1 := must(fingerprint(dir))
	write(filepath.Join(elsewhere, "nomad", "x.hcl"), "c")
	h2 := must(fingerprint(dir))
	write(filepath.Join(elsewhere, "profiles.hcl"), "d")
	h3 := must(fingerprint(dir))
	if h1 == h2 || h2 == h3 {
		t.Errorf("a change behind a link did not show: %s %s %s", h1, h2, h3)
	}
	link("/nonexistent", filepath.Join(dir, "broken.hcl"))
	h4 := must(fingerprint(dir))
	if h4 == h3 {
		t.Error("a new broken link did not show")
	}
}
