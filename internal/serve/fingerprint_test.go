package serve

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
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
	must := func(h folderPrint, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return h.Content
	}
	write(filepath.Join(elsewhere, "profiles.hcl"), "a")
	must(folderPrint{}, os.Mkdir(filepath.Join(elsewhere, "nomad"), 0o755))
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

// What Load does not read does not count, and nothing that is no regular
// file is opened: a named pipe *.hcl, a link to one or to a device.
func TestFingerprintReadsWhatLoadReads(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fp := func() string {
		t.Helper()
		h, err := fingerprint(dir)
		if err != nil {
			t.Fatal(err)
		}
		return h.Stamp
	}
	write("profiles.hcl", "a")
	if err := os.Mkdir(filepath.Join(dir, "nomad"), 0o755); err != nil {
		t.Fatal(err)
	}
	h0 := fp()
	write("README", "notes")
	write(".profiles.hcl.swp", "swap")
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(".git/HEAD", "ref")
	write("nomad/x.txt", "b")
	if h := fp(); h != h0 {
		t.Error("a file Load does not read changed the fingerprint")
	}
	write(".ops.hcl", "hidden")
	h1 := fp()
	if h1 == h0 {
		t.Error("a hidden *.hcl (Load warns of it) did not show")
	}
	write(".ops.hcl", "hidden, changed")
	if fp() != h1 {
		t.Error("the content of a hidden *.hcl (never read) counted")
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "nomad", "pipe.hcl"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.hcl")); err != nil {
		t.Fatal(err)
	}
	done := make(chan string, 1)
	go func() { h, _ := fingerprint(dir); done <- h.Stamp }()
	select {
	case h := <-done:
		if h == h1 {
			t.Error("a named pipe and a link to a device did not show")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fingerprint blocked on a named pipe or a device")
	}
}

// A file rewritten with the same bytes counts as changed: what Load read
// in between may have been something else.
func TestFingerprintSeesRewrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "profiles.hcl")
	if err := os.WriteFile(p, []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	h0, err := fingerprint(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A different modification time stands for a later write.
	if err := os.Chtimes(p, time.Time{}, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	h1, err := fingerprint(dir)
	if err != nil || h1.Stamp == h0.Stamp || h1.Content != h0.Content {
		t.Errorf("rewritten with the same bytes: %+v %+v %v; want another stamp, the same content", h0, h1, err)
	}
}
