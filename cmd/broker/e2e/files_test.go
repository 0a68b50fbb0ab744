package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/apply"
)

// deployByLink moves dir/rel elsewhere and links it back, as configuration
// management deploys files.
func deployByLink(t *testing.T, dir, rel string) {
	t.Helper()
	elsewhere := filepath.Join(t.TempDir(), filepath.Base(rel))
	if err := os.Rename(filepath.Join(dir, rel), elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(dir, rel)); err != nil {
		t.Fatal(err)
	}
}

// A symlinked profiles.hcl and policy document are read like the files: a
// folder applied as plain files plans no change once they are links, even
// with --prune (which once planned to delete every profile).
func TestPlanReadsSymlinkedFiles(t *testing.T) {
	setup(t)
	plain := policiesDir(t, nil)
	applyDir(t, plain, apply.Options{})

	linked := policiesDir(t, nil)
	deployByLink(t, linked, "profiles.hcl")
	deployByLink(t, linked, "nomad/ci-read-jobs.hcl")
	if got := planKeys(t, linked, "--prune"); len(got) != 0 {
		t.Errorf("plan --prune of the linked folder: %v, want no change", got)
	}
}

// A dangling or looping link is an error naming the file, and nothing is
// written.
func TestBrokenSymlinkIsAnError(t *testing.T) {
	setup(t)
	applyDir(t, policiesDir(t, nil), apply.Options{})
	for _, tc := range []struct {
		name, target string
		want         string
	}{
		{"dangling", "/nonexistent/profiles.hcl", `profiles.hcl:1:1: Broken symbolic link: `},
		{"looping", "profiles.hcl", `profiles.hcl:1:1: Broken symbolic link: `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := policiesDir(t, map[string]string{"profiles.hcl": ""})
			if err := os.Symlink(tc.target, filepath.Join(dir, "profiles.hcl")); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t)
			for _, args := range [][]string{{"plan", "--prune", dir}, {"apply", "--auto-approve", "--prune", dir}} {
				code, _, stderr := broker(t, args...)
				if code != exitError || !strings.Contains(stderr, dir+"/"+tc.want) {
					t.Errorf("broker %s: exit %d, want %d and %q", args[0], code, exitError, tc.want)
				}
			}
			unchanged(t, before, "the refused run")
		})
	}
}

// A folder that declares no profile is refused by plan and apply, with a
// message naming the folder, rather than planned as "delete everything".
func TestNoProfileIsRefused(t *testing.T) {
	setup(t)
	applyDir(t, policiesDir(t, nil), apply.Options{})
	dir := policiesDir(t, map[string]string{"profiles.hcl": "# the profiles went elsewhere\n"})
	before := snapshot(t)
	for _, args := range [][]string{{"plan", "--prune", dir}, {"plan", dir}, {"apply", "--auto-approve", "--prune", dir}} {
		code, stdout, stderr := broker(t, args...)
		if code != exitError || !strings.Contains(stderr, "No profile: "+dir+" declares no profile block") {
			t.Errorf("broker %s: exit %d, want %d and the folder named", strings.Join(args, " "), code, exitError)
		}
		if strings.Contains(stdout, "delete") || strings.Contains(stdout, "- vault") {
			t.Errorf("broker %s printed a plan:\n%s", strings.Join(args, " "), stdout)
		}
	}
	unchanged(t, before, "the refused run")
}
