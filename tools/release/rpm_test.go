package main

import (
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRPMOwnsItsDirectories: the RPMs list only files, none of
// the directories they create (/usr/share/doc/alilogin-broker and its
// examples/policies and deploy, /usr/share/doc/alilogin). rpm removes only
// what a package owns, so `dnf remove` (README's uninstall) leaves those
// directories behind; the deb check proves a clean removal, the RPM check
// does not look.
func TestRPMOwnsItsDirectories(t *testing.T) {
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
		dirs, fileList := map[string]bool{}, []string{}
		for _, l := range strings.Split(string(b), "\n") {
			if mode, name, ok := strings.Cut(l, " "); ok && strings.HasPrefix(mode, "d") {
				dirs[name] = true
			} else if ok {
				fileList = append(fileList, name)
			}
		}
		pkg := strings.TrimSuffix(key, "-1")
		for _, d := range append(want[key], "/usr/share/licenses/"+pkg) {
			if !dirs[d] {
				t.Errorf("%s does not own the directory %s (it owns %v)", n, d, dirs)
			}
		}
		// Every directory between a file of its own and its own top
		// directory is the package's; no shared directory (/usr/bin,
		// /usr/share/man/man1) is.
		own := []string{"/usr/share/doc/" + pkg, "/usr/share/licenses/" + pkg}
		for _, f := range fileList {
			for _, top := range own {
				for d := filepath.Dir(f); strings.HasPrefix(d, top); d = filepath.Dir(d) {
					if !dirs[d] {
						t.Errorf("%s: %s is in %s, which it does not own", n, f, d)
					}
				}
			}
		}
		for d := range dirs {
			if d != own[0] && d != own[1] && !strings.HasPrefix(d, own[0]+"/") {
				t.Errorf("%s owns the shared directory %s", n, d)
			}
		}
		// rpm -qp --dump says the same (mode field 5: 040755).
		dump := sh(t, "rpm", "-qp", "--dump", filepath.Join(out, n))
		for _, d := range own {
			if !strings.Contains(dump, "\n"+d+" 4096 ") && !strings.HasPrefix(dump, d+" 4096 ") || !strings.Contains(dump, " 040755 ") {
				t.Errorf("%s: rpm --dump has no directory %s:\n%s", n, d, dump)
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
	notices := filepath.Join(docs, "NOTICES")
	if err := os.WriteFile(notices, []byte("stand-in notices\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	names, err := buildPackages(packageInput{Repo: repo, Docs: docs, Out: out, Version: "v1.2.3", Arch: "amd64",
		MTime:   time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Binary:  func(c string) string { return filepath.Join(docs, c, "bin", c) },
		Notices: func(string) string { return notices }})
	if err != nil {
		t.Fatal(err)
	}
	return out, names
}

// TestPackagesCarryLicences: the binaries compile in BSD, MIT,
// Apache-2.0 and MPL-2.0 code, whose licences ask for their notices (and
// Apache's text) to go with a binary distribution; the packages carried
// no copyright file or licence at all.
//
// Stronger than the review's first version: a release's linux/amd64
// packages are built from the real binaries, and every licence file of
// every module the binary's build information lists (found by the go
// command, not by the tool's own lookup), and Go's own, must be in the
// deb's /usr/share/doc/<pkg>/copyright and in the RPM's %license file.
// The RPM License tag (the project's own licence) is not checked: no
// licence for alilogin itself has been decided yet.
func TestPackagesCarryLicences(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out, r := sharedRelease(t, repo)
	goroot := strings.TrimSpace(sh(t, "go", "env", "GOROOT"))
	for _, p := range []struct{ name, bin string }{{"alilogin", "alilogin"}, {"alilogin-broker", "broker"}} {
		bi, err := buildinfo.ReadFile(filepath.Join(out, p.bin+"-"+r.Version+"-linux-amd64"))
		if err != nil {
			t.Fatal(err)
		}
		var mods []string
		for _, d := range bi.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			mods = append(mods, d.Path+"@"+d.Version)
		}
		if len(mods) < 5 {
			t.Fatalf("%s compiles in only %v", p.bin, mods)
		}
		cmd := exec.Command("go", append([]string{"mod", "download", "-json"}, mods...)...)
		cmd.Dir = repo
		js, err := cmd.Output()
		if err != nil {
			t.Fatalf("go mod download: %v", err)
		}
		want := map[string]string{} // licence file → its text
		addDir := func(what, dir string) {
			entries, _ := os.ReadDir(dir)
			n := 0
			for _, e := range entries {
				u := strings.ToUpper(e.Name())
				if strings.HasPrefix(u, "LICEN") || strings.HasPrefix(u, "COPYING") || strings.HasPrefix(u, "NOTICE") || u == "PATENTS" {
					b, err := os.ReadFile(filepath.Join(dir, e.Name()))
					if err != nil {
						t.Fatal(err)
					}
					want[what+" "+e.Name()] = string(b)
					n++
				}
			}
			if n == 0 {
				t.Errorf("%s: no licence file in %s", what, dir)
			}
		}
		addDir("go", goroot)
		for dec := json.NewDecoder(bytes.NewReader(js)); dec.More(); {
			var m struct{ Path, Version, Dir string }
			if err := dec.Decode(&m); err != nil {
				t.Fatal(err)
			}
			addDir(m.Path+"@"+m.Version, m.Dir)
		}
		for _, n := range r.Files {
			rest, isRPM := strings.CutPrefix(n, p.name+"-")
			if !strings.HasPrefix(n, p.name+"_") && !(isRPM && rest != "" && rest[0] >= '0' && rest[0] <= '9') {
				continue
			}
			x := t.TempDir()
			var notices string
			switch {
			case strings.HasSuffix(n, ".deb"):
				sh(t, "dpkg-deb", "-x", filepath.Join(out, n), x)
				notices = "usr/share/doc/" + p.name + "/copyright"
			case strings.HasSuffix(n, ".rpm"):
				if fl := sh(t, "rpm", "-qp", "--licensefiles", filepath.Join(out, n)); strings.TrimSpace(fl) != "/usr/share/licenses/"+p.name+"/NOTICES" {
					t.Errorf("%s: licence files %q", n, fl)
				}
				cmd := exec.Command("sh", "-c", `rpm2archive - <"$1" | tar -xzf -`, "sh", filepath.Join(out, n))
				cmd.Dir = x
				if b, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("rpm2archive %s: %v\n%s", n, err, b)
				}
				notices = "usr/share/licenses/" + p.name + "/NOTICES"
			default:
				continue
			}
			got, err := os.ReadFile(filepath.Join(x, notices))
			if err != nil {
				t.Errorf("%s: %v", n, err)
				continue
			}
			for what, text := range want {
				if !strings.Contains(string(got), text) {
					t.Errorf("%s: /%s lacks %s", n, notices, what)
				}
			}
			t.Logf("%s: /%s has the %d licence files of %d modules and Go", n, notices, len(want), len(mods))
		}
	}
}
