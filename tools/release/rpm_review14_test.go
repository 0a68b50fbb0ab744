package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRPMOwnsItsDirectories_review14: the RPMs list only files, none of
// the directories they create (/usr/share/doc/alilogin-broker and its
// examples/policies and deploy, /usr/share/doc/alilogin). rpm removes only
// what a package owns, so `dnf remove` (README's uninstall) leaves those
// directories behind; the deb check proves a clean removal, the RPM check
// does not look.
func TestRPMOwnsItsDirectories_review14(t *testing.T) {
	out, names := fakePackages(t)
	want := map[string][]string{
		"alilogin-1":        {"/usr/share/doc/alilogin"},
		"alilogin-broker-1": {"/usr/share/doc/alilogin-broker", "/usr/share/doc/alilogin-broker/examples/policies", "/usr/share/doc/alilogin-broker/deploy"},
	}
	for _, n := range names {
		if !strings.HasSuffix(n, ".rpm") {
			continue
		}
		b, err := exec.Command("rpm", "-qp", "--qf", "[%{FILEMODES:perms} %{FILENAMES}\n]", filepath.Join(out, n)).Output()
		if err != nil {
			t.Fatalf("rpm -qp %s: %v", n, err)
		}
		key := "alilogin-1"
		if strings.HasPrefix(n, "alilogin-broker-") {
			key = "alilogin-broker-1"
		}
		dirs := map[string]bool{}
		for _, l := range strings.Split(string(b), "\n") {
			if mode, name, ok := strings.Cut(l, " "); ok && strings.HasPrefix(mode, "d") {
				dirs[name] = true
			}
		}
		for _, d := range want[key] {
			if !dirs[d] {
				t.Errorf("%s does not own the directory %s (it owns %v)", n, d, dirs)
			}
		}
	}
}

// fakePackages builds the packages from stand-in binaries, man pages and
// completions (the real docs/, policies/, README).
func fakePackages(t *testing.T) (string, []string) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	docs, out := filepath.Join(tmp, "docs"), filepath.Join(tmp, "out")
	for _, c := range commands {
		for _, f := range []string{"completions/" + c + ".bash", "completions/_" + c, "completions/" + c + ".fish", "man1/" + c + ".1", "bin/" + c} {
			p := filepath.Join(docs, c, filepath.FromSlash(f))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	os.MkdirAll(out, 0o755)
	names, err := buildPackages(packageInput{Repo: repo, Docs: docs, Out: out, Version: "v1.2.3", Arch: "amd64",
		MTime:  time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Binary: func(c string) string { return filepath.Join(docs, c, "bin", c) }})
	if err != nil {
		t.Fatal(err)
	}
	return out, names
}

// TestPackagesCarryLicences_review14: the binaries compile in BSD, MIT,
// Apache-2.0 and MPL-2.0 code, whose licences ask for their notices (and
// Apache's text) to go with a binary distribution; the packages carry no
// copyright file or licence at all, and the RPM's License tag is empty
// (rpmlint: no-license; Alma/RHEL packaging requires it).
func TestPackagesCarryLicences_review14(t *testing.T) {
	out, names := fakePackages(t)
	for _, n := range names {
		p := filepath.Join(out, n)
		if strings.HasSuffix(n, ".rpm") {
			b, err := exec.Command("rpm", "-qp", "--qf", "%{LICENSE}", p).Output()
			if err != nil {
				t.Fatalf("rpm -qp %s: %v", n, err)
			}
			if l := strings.TrimSpace(string(b)); l == "" || l == "(none)" {
				t.Errorf("%s: License tag is empty", n)
			}
			continue
		}
		b, err := exec.Command("dpkg-deb", "-c", p).Output()
		if err != nil {
			t.Fatalf("dpkg-deb -c %s: %v", n, err)
		}
		pkg, _, _ := strings.Cut(n, "_")
		if !strings.Contains(string(b), "./usr/share/doc/"+pkg+"/copyright\n") {
			t.Errorf("%s has no /usr/share/doc/%s/copyright", n, pkg)
		}
	}
}
