package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestRelease is `make release` checked the way a user meets it (CI runs
// it as root through `make test`): the full release once; SHA256SUMS
// against the artefacts (ours and sha256sum -c); a second build of
// linux/amd64 from a copy of the tree in another directory, with an empty
// build cache and another HOME, TMPDIR, time zone and umask, gives the
// same bytes; the debs install with dpkg -i (into a private dpkg root if
// alilogin is installed already), `alilogin version`, `man alilogin` and
// bash and fish completion work from the installed files, and dpkg -r
// removes every file; the RPMs' metadata and file lists.
func TestRelease(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Fatalf("the release check installs a deb: it needs linux, not %s", runtime.GOOS)
	}
	for _, tool := range []string{"git", "dpkg", "rpm", "man", "sha256sum", "bash", "fish"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed (make deps installs it): %v", tool, err)
		}
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out, r := sharedRelease(t, repo)
	sizes(t, out)

	t.Run("checksums", func(t *testing.T) {
		if err := verifySums(out); err != nil {
			t.Error(err)
		}
		cmd := exec.Command("sha256sum", "--check", "--strict", SumsFile)
		cmd.Dir = out
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, b)
		}
		if want := 2*len(defaultTargets) + 8 + 1; len(r.Files) != want {
			t.Errorf("%d files, want %d: %v", len(r.Files), want, r.Files)
		}
	})

	t.Run("reproducible", func(t *testing.T) { reproducible(t, repo, out, r) })
	t.Run("deb", func(t *testing.T) { checkDeb(t, out, r) })
	t.Run("rpm", func(t *testing.T) { checkRPM(t, out, r) })
}

// reproducible builds linux/amd64 again from a copy of the work tree (the
// files git would commit, so uncommitted changes too) in another
// directory, and compares every artefact they share, byte for byte.
func reproducible(t *testing.T, repo, out string, r *result) {
	src := filepath.Join(t.TempDir(), "elsewhere", "alilogin")
	ls, err := git(context.Background(), repo, "ls-files", "--cached", "--others", "--exclude-standard")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Split(ls, "\n") {
		from := filepath.Join(repo, filepath.FromSlash(f))
		st, err := os.Lstat(from)
		if os.IsNotExist(err) || (err == nil && !st.Mode().IsRegular()) {
			continue // deleted, or not a file (a symlink, a submodule)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := copyFile(from, filepath.Join(src, f), st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	out2 := filepath.Join(t.TempDir(), "dist2")
	s := source{Commit: r.Commit, Time: r.Date}
	// The second build starts from an empty build cache (so the
	// compiler's and linker's output is compared, not the first build's
	// cached objects), with another HOME, TMPDIR, time zone and umask.
	env := []string{"GOCACHE=" + t.TempDir(), "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir()}
	t.Setenv("TZ", "Pacific/Kiritimati") // UTC+14: the first build's machine is UTC
	old := syscall.Umask(0o077)
	t0 := time.Now()
	r2, err := release(context.Background(), options{Repo: src, Out: out2, Version: r.Version, Source: &s, Targets: []string{"linux/amd64"}, Env: env, Log: testLog{t}})
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second linux/amd64 build from %s, cold cache: %s", src, time.Since(t0).Round(time.Millisecond))
	a, err := readSums(filepath.Join(out, SumsFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := readSums(filepath.Join(out2, SumsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != len(r2.Files)-1 || len(b) != 6 {
		t.Fatalf("second build has %d files: %v", len(b), r2.Files)
	}
	differ := 0
	for name, sum := range b {
		if a[name] != sum {
			differ++
			t.Errorf("%s differs between the two builds: %s and %s", name, a[name], sum)
		}
	}
	if differ == 0 {
		t.Logf("reproducible: all %d linux/amd64 artefacts identical", len(b))
	} else {
		t.Logf("not reproducible: %d of %d linux/amd64 artefacts differ", differ, len(b))
	}
}

// staleMarker lists the packages checkDeb installed on the system ("name
// version" lines) while they are installed: a run killed before its
// cleanup leaves it, and the next run removes exactly those.
const staleMarker = "/var/lib/alilogin-release-check/installed"

// dpkgStatus is a package's status and version in the dpkg database at
// root ("" if dpkg does not know it).
func dpkgStatus(root, pkg string) string {
	st, err := exec.Command("dpkg-query", "--admindir", filepath.Join(root, "var/lib/dpkg"), "-W", "-f=${db:Status-Status} ${Version}", pkg).Output()
	if err != nil || strings.HasPrefix(string(st), "not-installed") {
		return ""
	}
	return strings.TrimSpace(string(st))
}

// removeStale removes what an earlier, killed run of checkDeb left
// installed: the packages its marker lists, at the version it installed,
// and nothing else.
func removeStale(t *testing.T) {
	b, err := os.ReadFile(staleMarker)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		pkg, ver, ok := strings.Cut(l, " ")
		if !ok {
			continue
		}
		if st := dpkgStatus("/", pkg); strings.HasSuffix(st, " "+ver) {
			t.Logf("removing %s %s, left installed (%s) by an earlier run of this check", pkg, ver, st)
			sh(t, "dpkg", "-r", pkg)
		}
	}
	if err := os.Remove(staleMarker); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Dir(staleMarker)) // if empty
}

// checkDeb installs the debs with dpkg -i, checks them from the installed
// files, removes them with dpkg -r and checks that nothing is left. It
// removes only what it installed: when alilogin or alilogin-broker is
// installed on the machine already, it installs into a private dpkg root
// (dpkg --root, a database of its own) instead of over them.
func checkDeb(t *testing.T, out string, r *result) {
	var debs []string
	for _, n := range r.Files {
		if strings.HasSuffix(n, "_"+runtime.GOARCH+".deb") {
			debs = append(debs, filepath.Join(out, n))
		}
	}
	if len(debs) != 2 {
		t.Fatalf("debs for %s: %v", runtime.GOARCH, debs)
	}
	removeStale(t)
	var marker strings.Builder
	root := "/"
	for _, d := range debs {
		pv := strings.Fields(sh(t, "dpkg-deb", "-f", d, "Package", "Version"))
		if len(pv) != 4 {
			t.Fatalf("dpkg-deb -f %s: %q", d, pv)
		}
		pkg, ver := strings.TrimSpace(pv[1]), strings.TrimSpace(pv[3])
		fmt.Fprintf(&marker, "%s %s\n", pkg, ver)
		if st := dpkgStatus("/", pkg); st != "" && root == "/" {
			root = filepath.Join(t.TempDir(), "root")
			t.Logf("%s is on this machine already (%s): installing into the private dpkg root %s", pkg, st, root)
		}
	}
	var env []string // for the commands that use the installed files
	dpkg := func(args ...string) { sh(t, "dpkg", args...) }
	if root != "/" {
		for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "var/log"} {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range []string{"var/lib/dpkg/status", "var/lib/dpkg/available"} {
			if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		dpkg = func(args ...string) { sh(t, "dpkg", append([]string{"--root", root}, args...)...) }
		env = []string{"PATH=" + filepath.Join(root, "usr/bin") + ":" + os.Getenv("PATH"),
			"MANPATH=" + filepath.Join(root, "usr/share/man"), "XDG_DATA_DIRS=" + filepath.Join(root, "usr/share")}
	} else {
		if err := os.MkdirAll(filepath.Dir(staleMarker), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(staleMarker, []byte(marker.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	at := func(f string) string { return filepath.Join(root, f) }
	installed := []string{
		"/usr/bin/alilogin", "/usr/share/man/man1/alilogin.1.gz", "/usr/share/man/man1/alilogin-login.1.gz",
		"/usr/share/bash-completion/completions/alilogin", "/usr/share/zsh/vendor-completions/_alilogin",
		"/usr/share/fish/vendor_completions.d/alilogin.fish", "/usr/share/doc/alilogin/README.md",
		"/usr/share/doc/alilogin/copyright", "/usr/share/doc/alilogin-broker/copyright",
		"/usr/bin/broker", "/usr/share/man/man1/broker.1.gz", "/usr/share/doc/alilogin-broker/examples/policies/profiles.hcl",
		"/usr/share/doc/alilogin-broker/deploy/broker.nomad.hcl", agentUnit,
	}
	removed := false
	remove := func() {
		if !removed {
			removed = true
			dpkg("-r", "alilogin", "alilogin-broker")
			if root == "/" {
				os.Remove(staleMarker)
				os.Remove(filepath.Dir(staleMarker)) // if empty
			}
		}
	}
	t.Cleanup(remove)
	dpkg(append([]string{"-i"}, debs...)...)
	for _, f := range installed {
		if _, err := os.Stat(at(f)); err != nil {
			t.Errorf("installed: %v", err)
		}
	}
	checkAgentUnit(t, at(agentUnit))

	var got struct{ Version, Commit, Date string }
	if err := json.Unmarshal([]byte(shEnv(t, env, at("/usr/bin/alilogin"), "version", "--json")), &got); err != nil {
		t.Fatal(err)
	}
	if want := (struct{ Version, Commit, Date string }{r.Version, r.Commit, r.Date.Format(time.RFC3339)}); got != want {
		t.Errorf("installed alilogin version --json = %+v, want %+v", got, want)
	}
	if line := shEnv(t, env, at("/usr/bin/broker"), "--version"); !strings.HasPrefix(line, "broker "+r.Version+" (commit "+r.Commit[:12]+", built "+r.Date.Format(time.RFC3339)) {
		t.Errorf("installed broker --version = %q", line)
	}

	page := shEnv(t, append(env, "MANPAGER=cat", "MANWIDTH=250", "LANG=C"), "man", "alilogin")
	for _, s := range []string{"alilogin - One SSO login", "alilogin-login(1)", "--version", r.Version} {
		if !strings.Contains(page, s) {
			t.Errorf("man alilogin lacks %q:\n%s", s, page)
		}
	}
	if page := shEnv(t, append(env, "MANPAGER=cat", "LANG=C"), "man", "alilogin-version"); !strings.Contains(page, "--json") {
		t.Errorf("man alilogin-version lacks --json:\n%s", page)
	}

	// bash-completion's loader finds the file by the command's name, as
	// in an interactive shell (in a private root through XDG_DATA_DIRS);
	// the function asks the installed binary.
	bash := `source /usr/share/bash-completion/bash_completion
_completion_loader alilogin
complete -p alilogin >&2 || exit 1
[ "$(type -P alilogin)" = "$1" ] || { echo "alilogin is $(type -P alilogin), not $1" >&2; exit 1; }
COMP_WORDS=(alilogin lo); COMP_CWORD=1; COMP_LINE="alilogin lo"; COMP_POINT=${#COMP_LINE}; COMP_TYPE=9
__start_alilogin alilogin lo alilogin
printf '%s\n' "${COMPREPLY[@]}"`
	if got := shEnv(t, env, "bash", "-c", bash, "bash", at("/usr/bin/alilogin")); !strings.Contains(got, "login") || !strings.Contains(got, "logout") || strings.Contains(got, "status") {
		t.Errorf("bash completion of 'alilogin lo' = %q, want login and logout", got)
	}
	if got := shEnv(t, append(env, "HOME="+t.TempDir()), "fish", "-c", "complete -C 'alilogin lo'"); !strings.Contains(got, "login") || !strings.Contains(got, "logout") {
		t.Errorf("fish completion of 'alilogin lo' = %q", got)
	}

	remove()
	for _, f := range installed {
		if _, err := os.Lstat(at(f)); !os.IsNotExist(err) {
			t.Errorf("after dpkg -r, %s: %v", at(f), err)
		}
	}
	for _, d := range []string{"/usr/share/doc/alilogin", "/usr/share/doc/alilogin-broker"} {
		if _, err := os.Lstat(at(d)); !os.IsNotExist(err) {
			t.Errorf("after dpkg -r, %s: %v", at(d), err)
		}
	}
	for _, p := range []string{"alilogin", "alilogin-broker"} {
		if st := dpkgStatus(root, p); st != "" && !strings.HasPrefix(st, "config-files") {
			t.Errorf("%s is %q after dpkg -r", p, st)
		}
	}
	if _, err := os.Stat(staleMarker); !os.IsNotExist(err) {
		t.Errorf("after dpkg -r, %s: %v", staleMarker, err)
	}
}

func checkRPM(t *testing.T, out string, r *result) {
	for _, arch := range []string{"x86_64", "aarch64"} {
		for _, p := range []struct{ name, bin string }{{"alilogin", "alilogin"}, {"alilogin-broker", "broker"}} {
			var file string
			for _, n := range r.Files {
				if strings.HasPrefix(n, p.name+"-") && !strings.HasPrefix(n, p.name+"-broker-") && strings.HasSuffix(n, "."+arch+".rpm") {
					file = filepath.Join(out, n)
				}
			}
			if file == "" {
				t.Errorf("no %s %s RPM in %v", p.name, arch, r.Files)
				continue
			}
			info := sh(t, "rpm", "-qp", "--queryformat", "%{NAME}|%{ARCH}|%{OS}|%{BUILDTIME}|%{URL}\n", file)
			if want := fmt.Sprintf("%s|%s|linux|%d|%s", p.name, arch, r.Date.Unix(), homepage); strings.TrimSpace(info) != want {
				t.Errorf("%s: %q, want %q", filepath.Base(file), info, want)
			}
			if qpi := sh(t, "rpm", "-qpi", file); !strings.Contains(qpi, "Name        : "+p.name) || !strings.Contains(qpi, "Summary     :") {
				t.Errorf("rpm -qpi %s:\n%s", filepath.Base(file), qpi)
			}
			list := "\n" + sh(t, "rpm", "-qpl", file)
			for _, f := range []string{"/usr/bin/" + p.bin, "/usr/share/man/man1/" + p.bin + ".1.gz", "/usr/share/bash-completion/completions/" + p.bin,
				"/usr/share/zsh/site-functions/_" + p.bin, "/usr/share/fish/vendor_completions.d/" + p.bin + ".fish"} {
				if !strings.Contains(list, "\n"+f+"\n") {
					t.Errorf("rpm -qpl %s lacks %s:%s", filepath.Base(file), f, list)
				}
			}
			if p.bin == "alilogin" && !strings.Contains(list, "\n"+agentUnit+"\n") {
				t.Errorf("rpm -qpl %s lacks the agent's systemd user unit %s:%s", filepath.Base(file), agentUnit, list)
			}
			if p.bin == "broker" && !strings.Contains(list, "\n/usr/share/doc/alilogin-broker/examples/policies/profiles.hcl\n") {
				t.Errorf("rpm -qpl %s lacks the example policies:%s", filepath.Base(file), list)
			}
		}
	}
}

func sh(t *testing.T, name string, args ...string) string { return shEnv(t, nil, name, args...) }

func shEnv(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, b, stderr.String())
	}
	return string(b)
}

func sizes(t *testing.T, dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if st, err := e.Info(); err == nil {
			t.Logf("%10d  %s", st.Size(), e.Name())
		}
	}
}

// testLog sends the release's progress lines to t.Log.
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

var _ io.Writer = testLog{}

var shared struct {
	sync.Mutex
	out string
	r   *result
}

// sharedRelease is the full release of the repository, built once on
// first use and shared by the tests that only read it (its directory is
// removed with the test binary's temporary directory by TestMain).
func sharedRelease(t *testing.T, repo string) (string, *result) {
	shared.Lock()
	defer shared.Unlock()
	if shared.r == nil {
		out := filepath.Join(testTmp, "dist")
		t0 := time.Now()
		r, err := release(context.Background(), options{Repo: repo, Out: out, Targets: defaultTargets, Log: testLog{t}})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("full release: %s, version %s", time.Since(t0).Round(time.Millisecond), r.Version)
		shared.out, shared.r = out, r
	}
	return shared.out, shared.r
}

var testTmp string

func TestMain(m *testing.M) {
	var err error
	if testTmp, err = os.MkdirTemp("", "alilogin-release-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(testTmp)
	os.Exit(code)
}
