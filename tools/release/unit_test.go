package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSourceVersion(t *testing.T) {
	at := time.Date(2026, 12, 1, 13, 6, 17, 0, time.UTC)
	c := "371485b467212f2b4a0a35dd1a1a37160830ff1b"
	for _, tc := range []struct {
		name string
		s    source
		want string
	}{
		{"no tag", source{Commit: c, Time: at}, "v0.0.0-20261201130617-371485b46721"},
		{"no tag, dirty", source{Commit: c, Time: at, Dirty: true}, "v0.0.0-20261201130617-371485b46721+dirty"},
		{"on a tag", source{Commit: c, Time: at, Tag: "v1.2.3", Exact: true}, "v1.2.3"},
		{"after a tag", source{Commit: c, Time: at, Tag: "v1.2.3"}, "v1.2.4-0.20261201130617-371485b46721"},
		{"after a pre-release tag", source{Commit: c, Time: at, Tag: "v1.3.0-rc.1"}, "v1.3.0-rc.1.0.20261201130617-371485b46721"},
	} {
		if got := tc.s.version(); got != tc.want {
			t.Errorf("%s: version() = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestVerifySums(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeSums(dir, []string{"b", "a"}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, SumsFile))
	want := "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb  a\n" +
		"3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d  b\n"
	if string(b) != want {
		t.Errorf("SHA256SUMS = %q, want %q", b, want)
	}
	if err := verifySums(dir); err != nil {
		t.Errorf("verifySums: %v", err)
	}
	for _, tc := range []struct {
		name, file, content, want string
	}{
		{"changed artefact", "a", "A", "a: sha256"},
		{"unlisted artefact", "c", "c", "c is not in SHA256SUMS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			for _, n := range []string{"a", "b", SumsFile} {
				b, _ := os.ReadFile(filepath.Join(dir, n))
				os.WriteFile(filepath.Join(d, n), b, 0o644)
			}
			os.WriteFile(filepath.Join(d, tc.file), []byte(tc.content), 0o644)
			if err := verifySums(d); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("verifySums = %v, want %q", err, tc.want)
			}
		})
	}
	d := t.TempDir()
	b, _ = os.ReadFile(filepath.Join(dir, SumsFile))
	os.WriteFile(filepath.Join(d, SumsFile), b, 0o644)
	os.WriteFile(filepath.Join(d, "a"), []byte("a"), 0o644)
	if err := verifySums(d); err == nil || !strings.Contains(err.Error(), "lists 2 files") {
		t.Errorf("missing artefact: verifySums = %v", err)
	}
}

func TestClearOut(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "alilogin-v1-linux-amd64"), nil, 0o644)
	if err := writeSums(dir, []string{"alilogin-v1-linux-amd64"}); err != nil {
		t.Fatal(err)
	}
	if err := clearOut(dir); err != nil {
		t.Fatal(err)
	}
	if e, _ := os.ReadDir(dir); len(e) != 0 {
		t.Errorf("left %v", e)
	}
	// An earlier release with a file its SHA256SUMS does not list: not
	// ours, nothing is removed.
	os.WriteFile(filepath.Join(dir, "alilogin-v1-linux-amd64"), nil, 0o644)
	if err := writeSums(dir, []string{"alilogin-v1-linux-amd64"}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), nil, 0o644)
	if err := clearOut(dir); err == nil || !strings.Contains(err.Error(), "go.mod is not a release artefact") {
		t.Errorf("clearOut on a release plus a foreign file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "alilogin-v1-linux-amd64")); err != nil {
		t.Errorf("removed an artefact although the directory holds a foreign file: %v", err)
	}
	// Artefact names but no SHA256SUMS: refused.
	os.Remove(filepath.Join(dir, SumsFile))
	if err := clearOut(dir); err == nil || !strings.Contains(err.Error(), "has no SHA256SUMS") {
		t.Errorf("clearOut without SHA256SUMS: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "alilogin-v1-linux-amd64")); err != nil {
		t.Errorf("removed a file of a directory without SHA256SUMS: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Errorf("removed a foreign file: %v", err)
	}
}

// TestAllowVersion: an explicit version needs a clean tree and that tag
// on HEAD (TestReleaseDirtyTreeWithVersion runs it on a clone).
func TestAllowVersion(t *testing.T) {
	clean := source{Commit: "0123456789abcdef0123456789abcdef01234567", AtHead: []string{"v1.2.3", "other"}}
	if err := clean.allowVersion("v1.2.3"); err != nil {
		t.Errorf("tagged clean HEAD: %v", err)
	}
	if err := clean.allowVersion("v1.2.4"); err == nil || !strings.Contains(err.Error(), "no tag v1.2.4 points at HEAD") {
		t.Errorf("untagged version: %v", err)
	}
	dirty := clean
	dirty.Dirty = true
	if err := dirty.allowVersion("v1.2.3"); err == nil || !strings.Contains(err.Error(), "uncommitted changes") {
		t.Errorf("dirty tree: %v", err)
	}
}
