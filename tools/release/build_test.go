package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestClearOutKeepsInstalledBinaries: -out pointing at a
// directory that holds installed binaries (GOBIN after `go install`, or
// ~/bin) has no SHA256SUMS and none of this tool's file names
// (alilogin-<version>-<os>-<arch>, packages), yet clearOut deletes
// "alilogin" and "broker" there: the name-prefix guard is looser than its
// doc ("only files this tool writes").
func TestClearOutKeepsInstalledBinaries(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"alilogin", "broker", "alilogin.conf"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("mine"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	err := clearOut(dir)
	for _, n := range []string{"alilogin", "broker", "alilogin.conf"} {
		if _, serr := os.Stat(filepath.Join(dir, n)); serr != nil {
			t.Errorf("clearOut (err %v) deleted %s from a directory that is not a release: %v", err, n, serr)
		}
	}
	if err == nil {
		t.Errorf("clearOut on a directory of installed binaries: no error")
	}
}

// TestReleaseDirtyTreeWithVersion: `make release VERSION=v1.2.3`
// on a work tree with uncommitted changes stamps v1.2.3 and the HEAD
// commit, with no "+dirty" and no "modified": the binaries claim to be
// that commit's release but are not what rebuilding the commit gives
// (security.md: "the same commit ... gives the same binaries").
func TestReleaseDirtyTreeWithVersion(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	clone := filepath.Join(t.TempDir(), "alilogin")
	if out, err := exec.Command("git", "clone", "-q", "--local", "--no-hardlinks", repo, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	f, err := os.OpenFile(filepath.Join(clone, "README.md"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\nuncommitted\n")
	f.Close()
	r, err := release(context.Background(), options{Repo: clone, Out: filepath.Join(t.TempDir(), "dist"), Version: "v1.2.3", Log: testLog{t}})
	if err != nil {
		if strings.Contains(err.Error(), "dirty") || strings.Contains(err.Error(), "uncommitted") {
			return // refused: fine
		}
		t.Fatal(err)
	}
	if !strings.Contains(r.Version, "dirty") {
		t.Errorf("release of a dirty tree with -version v1.2.3 stamped %q (commit %s), nothing says it is not that commit", r.Version, r.Commit)
	}
}

// TestBuildIgnoresGoEnvFile: build sets GOFLAGS= in the
// environment to get "no GOFLAGS", but the go command then falls back to
// the builder's go env file (go env -w GOFLAGS=...), so what is built
// depends on the machine: here -tags=gendocs from the go env file puts
// the hidden __gen-docs command into a release binary. The
// reproducibility check shares the same go env file and cannot see it.
func TestBuildIgnoresGoEnvFile(t *testing.T) {
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	goenv := filepath.Join(t.TempDir(), "go.env")
	if err := os.WriteFile(goenv, []byte("GOFLAGS=-tags=gendocs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOENV", goenv)
	dir := filepath.Join(t.TempDir(), "bin")
	b := builder{repo: repo, log: testLog{t}, ldflags: ldflags(&result{Version: "v1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567"})}
	if err := b.build(context.Background(), runtime.GOOS, runtime.GOARCH, dir, nil); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(filepath.Join(dir, "alilogin"), "__gen-docs", "--help").CombinedOutput()
	if !strings.Contains(string(out), "unknown command") {
		t.Errorf("a release build has the hidden __gen-docs (GOFLAGS from the go env file):\n%s", out)
	}
}
