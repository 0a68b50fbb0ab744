package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReleaseCheckKeepsInstalledPackage_review14: `make test` runs
// release-check, which dpkg -i's the new debs over whatever alilogin the
// machine has and then dpkg -r's them: an alilogin package installed
// before (a developer's or CI image's own) is gone afterwards. The check
// should refuse to run over an installed package, or put it back.
func TestReleaseCheckKeepsInstalledPackage_review14(t *testing.T) {
	if st, _ := exec.Command("dpkg-query", "-W", "-f=${db:Status-Status}", "alilogin").Output(); string(st) == "installed" {
		t.Fatalf("alilogin is installed already; this test installs its own stand-in")
	}
	const oldVersion = "0.0.0~0review14"
	pkg := filepath.Join(t.TempDir(), "old")
	for f, s := range map[string]string{
		"DEBIAN/control":                         "Package: alilogin\nVersion: " + oldVersion + "\nArchitecture: all\nMaintainer: review14\nDescription: a stand-in for an alilogin installed before the check\n",
		"usr/share/doc/alilogin-review14/marker": "installed before\n",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(pkg, f)), 0o755)
		if err := os.WriteFile(filepath.Join(pkg, f), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deb := pkg + ".deb"
	sh(t, "dpkg-deb", "--root-owner-group", "--build", pkg, deb)
	sh(t, "dpkg", "-i", deb)
	t.Cleanup(func() { exec.Command("dpkg", "--purge", "alilogin").Run() })

	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "dist")
	r, err := release(context.Background(), options{Repo: repo, Out: out, Targets: []string{"linux/amd64"}, Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("deb", func(t *testing.T) { checkDeb(t, out, r) })

	st, _ := exec.Command("dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", "alilogin").Output()
	if got := strings.TrimSpace(string(st)); got != "installed "+oldVersion {
		t.Errorf("after the release check, the alilogin installed before is %q, want %q", got, "installed "+oldVersion)
	}
}
