package teststack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"testing"
)

// The project's commands, for BuildBinaries.
const (
	AliloginPkg = "github.com/alisw/alilogin/cmd/alilogin"
	BrokerPkg   = "github.com/alisw/alilogin/cmd/broker"
)

// BuildBinaries builds the main packages pkgs (import paths) into dir with
// one `go build` and returns each binary's path, in the order of pkgs.
// Tests run the commands as real processes, as users and Nomad do.
func BuildBinaries(ctx context.Context, dir string, pkgs ...string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	args := append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)
	if out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("could not build %v: %w\n%s", pkgs, err, out)
	}
	bins := make([]string, len(pkgs))
	for i, p := range pkgs {
		bins[i] = filepath.Join(dir, path.Base(p))
	}
	return bins, nil
}

// MainWithBinaries is Main for test packages that run the project's
// commands: it first builds pkgs into a temporary directory, removed at
// the end, and sets *bins[i] to the binary of pkgs[i].
//
//	func TestMain(m *testing.M) {
//		os.Exit(teststack.MainWithBinaries(m, teststack.Options{}, &stack, []string{teststack.AliloginPkg}, &bin))
//	}
func MainWithBinaries(m *testing.M, opts Options, out **Stack, pkgs []string, bins ...*string) int {
	if len(pkgs) != len(bins) {
		panic("teststack.MainWithBinaries: one binary path per package")
	}
	dir, err := os.MkdirTemp("", "alilogin-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "teststack: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	built, err := BuildBinaries(context.Background(), dir, pkgs...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "teststack: %v\n", err)
		return 1
	}
	for i, b := range built {
		*bins[i] = b
	}
	return Main(m, opts, out)
}
