package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReleaseCheckKeepsInstalledPackage: `make test` runs
// release-check, which dpkg -i's the new debs over whatever alilogin the
// machine has and then dpkg -r's them: an alilogin package installed
// before (a developer's or CI image's own) is gone afterwards. The check
// should refuse to run over an installed package, or put it back.
func TestReleaseCheckKeepsInstalledPackage(t *testing.T) {
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
	out, r := sharedRelease(t, repo)
	t.Run("deb", func(t *testing.T) { checkDeb(t, out, r) })

	st, _ := exec.Command("dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", "alilogin").Output()
	if got := strings.TrimSpace(string(st)); got != "installed "+oldVersion {
		t.Errorf("after the release check, the alilogin installed before is %q, want %q", got, "installed "+oldVersion)
	}
}

// standIn builds a deb of an empty package name at version.
func standIn(t *testing.T, name, version string) string {
	pkg := filepath.Join(t.TempDir(), name)
	control := "Package: " + name + "\nVersion: " + version + "\nArchitecture: all\nMaintainer: review14\nDescription: a stand-in\n"
	os.MkdirAll(filepath.Join(pkg, "DEBIAN"), 0o755)
	if err := os.WriteFile(filepath.Join(pkg, "DEBIAN/control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	sh(t, "dpkg-deb", "--root-owner-group", "--build", pkg, pkg+".deb")
	return pkg + ".deb"
}

// TestReleaseCheckRemovesOnlyItsStaleInstall: a release check
// killed between dpkg -i and its cleanup leaves its marker; the next run
// removes the package the marker names at the version it names, and
// leaves a package of another version (installed since by someone else).
func TestReleaseCheckRemovesOnlyItsStaleInstall(t *testing.T) {
	for _, p := range []string{"alilogin", "alilogin-broker"} {
		if dpkgStatus("/", p) != "" {
			t.Fatalf("%s is installed already; this test installs its own stand-ins", p)
		}
	}
	if _, err := os.Stat(staleMarker); !os.IsNotExist(err) {
		t.Fatalf("%s exists already: %v", staleMarker, err)
	}
	sh(t, "dpkg", "-i", standIn(t, "alilogin", "0.0.0~0stale"), standIn(t, "alilogin-broker", "0.0.0~0someoneelse"))
	t.Cleanup(func() { exec.Command("dpkg", "--purge", "alilogin", "alilogin-broker").Run(); os.Remove(staleMarker) })
	os.MkdirAll(filepath.Dir(staleMarker), 0o755)
	if err := os.WriteFile(staleMarker, []byte("alilogin 0.0.0~0stale\nalilogin-broker 0.0.0~0ours\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	removeStale(t)
	if st := dpkgStatus("/", "alilogin"); st != "" && !strings.HasPrefix(st, "config-files") {
		t.Errorf("the stale alilogin is %q, want removed", st)
	}
	if st := dpkgStatus("/", "alilogin-broker"); st != "installed 0.0.0~0someoneelse" {
		t.Errorf("the alilogin-broker of another version is %q, want kept", st)
	}
	if _, err := os.Stat(staleMarker); !os.IsNotExist(err) {
		t.Errorf("the marker is still there: %v", err)
	}
}
