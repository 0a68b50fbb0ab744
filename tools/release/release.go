package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// defaultTargets are the platforms of a release.
var defaultTargets = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"}

// commands are the binaries of a release, by their cmd/ directory.
var commands = []string{"alilogin", "broker"}

const buildinfoPkg = "github.com/alisw/alilogin/internal/buildinfo"

type options struct {
	Repo    string
	Out     string
	Version string   // empty: from git
	Targets []string // GOOS/GOARCH
	// Source, when set, is used instead of asking git (a copy of the tree
	// without .git, for the reproducibility check).
	Source *source
	// Env is added to the go commands' environment (GOCACHE for a cold
	// build).
	Env []string
	Log io.Writer
}

type result struct {
	Version string
	Commit  string
	Date    time.Time
	Files   []string // in Out, SHA256SUMS last
}

// release builds o.Targets and the linux packages into o.Out.
func release(ctx context.Context, o options) (*result, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	repo, err := filepath.Abs(o.Repo)
	if err != nil {
		return nil, fmt.Errorf("could not resolve %s: %w", o.Repo, err)
	}
	if _, err := os.Stat(filepath.Join(repo, "cmd", "alilogin")); err != nil {
		return nil, fmt.Errorf("%s is not the alilogin repository: %w", repo, err)
	}
	var src source
	if o.Source != nil {
		src = *o.Source
	} else if src, err = readSource(ctx, repo); err != nil {
		return nil, err
	}
	r := &result{Version: o.Version, Commit: src.Commit, Date: src.Time}
	if r.Version == "" {
		r.Version = src.version()
	} else if o.Source == nil {
		if err := src.allowVersion(r.Version); err != nil {
			return nil, err
		}
	}
	if !semverRE.MatchString(strings.TrimSuffix(r.Version, "+dirty")) {
		return nil, fmt.Errorf("version %q is not vMAJOR.MINOR.PATCH[-PRERELEASE]", r.Version)
	}
	if err := clearOut(o.Out); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "alilogin-release-")
	if err != nil {
		return nil, fmt.Errorf("could not create a work directory: %w", err)
	}
	defer os.RemoveAll(work)

	b := builder{repo: repo, env: o.Env, log: o.Log, ldflags: ldflags(r)}
	for _, t := range o.Targets {
		goos, goarch, ok := strings.Cut(t, "/")
		if !ok || goos == "" || goarch == "" {
			return nil, fmt.Errorf("target %q is not GOOS/GOARCH", t)
		}
		dir := filepath.Join(work, goos+"_"+goarch)
		if err := b.build(ctx, goos, goarch, dir, nil); err != nil {
			return nil, err
		}
		for _, c := range commands {
			name := fmt.Sprintf("%s-%s-%s-%s", c, r.Version, goos, goarch)
			exe := c
			if goos == "windows" {
				name, exe = name+".exe", c+".exe"
			}
			if err := copyFile(filepath.Join(dir, exe), filepath.Join(o.Out, name), 0o755); err != nil {
				return nil, err
			}
			r.Files = append(r.Files, name)
		}
	}

	// Man pages and completions come from a host build with the gendocs
	// tag: the same commands, plus a hidden __gen-docs.
	gen := filepath.Join(work, "gendocs")
	if err := b.build(ctx, runtime.GOOS, runtime.GOARCH, gen, []string{"-tags", "gendocs"}); err != nil {
		return nil, err
	}
	docs := filepath.Join(work, "docs")
	for _, c := range commands {
		t0 := time.Now()
		cmd := exec.CommandContext(ctx, filepath.Join(gen, c), "__gen-docs", "--date", r.Date.Format(time.RFC3339), filepath.Join(docs, c))
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("could not generate %s's man pages and completions: %w: %s", c, err, out)
		}
		fmt.Fprintf(o.Log, "release: %s man pages and completions: %s\n", c, time.Since(t0).Round(time.Millisecond))
	}

	modCache, err := goEnv(ctx, repo, "GOMODCACHE")
	if err != nil {
		return nil, err
	}
	goRoot, err := goEnv(ctx, repo, "GOROOT")
	if err != nil {
		return nil, err
	}
	for _, t := range o.Targets {
		goos, goarch, _ := strings.Cut(t, "/")
		if goos != "linux" {
			continue
		}
		t0 := time.Now()
		binary := func(c string) string {
			return filepath.Join(o.Out, fmt.Sprintf("%s-%s-linux-%s", c, r.Version, goarch))
		}
		notices := func(c string) string { return filepath.Join(work, "notices", goarch, c) }
		for _, c := range commands {
			if err := writeNotices(ctx, binary(c), notices(c), modCache, goRoot); err != nil {
				return nil, err
			}
		}
		names, err := buildPackages(packageInput{
			Repo: repo, Docs: docs, Out: o.Out, Version: r.Version, Arch: goarch, MTime: r.Date,
			Binary: binary, Notices: notices,
		})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(o.Log, "release: linux/%s packages: %s\n", goarch, time.Since(t0).Round(time.Millisecond))
		r.Files = append(r.Files, names...)
	}
	if err := writeSums(o.Out, r.Files); err != nil {
		return nil, err
	}
	r.Files = append(r.Files, SumsFile)
	return r, nil
}

// ldflags stamps the release into internal/buildinfo; -s -w drop the
// symbol table and DWARF (stack traces keep their function names).
func ldflags(r *result) string {
	return strings.Join([]string{"-s", "-w",
		"-X", buildinfoPkg + ".version=" + r.Version,
		"-X", buildinfoPkg + ".commit=" + r.Commit,
		"-X", buildinfoPkg + ".date=" + r.Date.UTC().Format(time.RFC3339),
	}, " ")
}

type builder struct {
	repo, ldflags string
	env           []string
	log           io.Writer
}

// buildEnv is the go command's environment: nothing from the builder's
// go env file (GOENV=off) and no Go or cgo setting from the process
// environment but where the caches are and where modules come from (go.sum
// checks what they are). The toolchain is the one on PATH, with no cgo,
// no GOFLAGS, no experiments, the baseline instruction sets.
func (b builder) buildEnv(ctx context.Context, goos, goarch string) ([]string, error) {
	keep := []string{"GOCACHE", "GOMODCACHE", "GOPROXY", "GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GONOPROXY", "GOINSECURE", "GOAUTH"}
	// Asked with the builder's own settings: these say where, not what.
	q := exec.CommandContext(ctx, "go", append([]string{"env"}, keep...)...)
	q.Dir = b.repo
	vals, err := q.Output()
	if err != nil {
		return nil, fmt.Errorf("could not run go env: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(vals), "\n"), "\n")
	if len(lines) != len(keep) {
		return nil, fmt.Errorf("could not read go env: %d values for %d settings", len(lines), len(keep))
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "GO") && !strings.HasPrefix(k, "CGO_") {
			env = append(env, kv)
		}
	}
	for i, k := range keep {
		if lines[i] != "" {
			env = append(env, k+"="+lines[i])
		}
	}
	env = append(env, "GOENV=off", "GOTOOLCHAIN=local", "GOWORK=off", "GOFLAGS=", "GOEXPERIMENT=", "GODEBUG=", "GOFIPS140=off",
		"CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch, "GOAMD64=v1", "GOARM64=v8.0", "GOARM=7", "GO386=sse2")
	return append(env, b.env...), nil
}

// build compiles every command for goos/goarch into dir, with nothing
// from the builder's Go settings (buildEnv), no VCS stamp, no file paths.
func (b builder) build(ctx context.Context, goos, goarch, dir string, extra []string) error {
	t0 := time.Now()
	args := append([]string{"build", "-trimpath", "-buildvcs=false", "-ldflags", b.ldflags}, extra...)
	args = append(args, "-o", dir+string(filepath.Separator))
	for _, c := range commands {
		args = append(args, "./cmd/"+c)
	}
	env, err := b.buildEnv(ctx, goos, goarch)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = b.repo
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("could not build %s/%s: %w\n%s", goos, goarch, err, out)
	}
	fmt.Fprintf(b.log, "release: go build %s/%s %s: %s\n", goos, goarch, strings.Join(extra, " "), time.Since(t0).Round(time.Millisecond))
	return nil
}

// clearOut makes out an empty directory. It removes only an earlier
// release: the files its SHA256SUMS lists, and only if the directory
// holds nothing else. -out pointing at the wrong directory is an error,
// not a deletion.
func clearOut(out string) error {
	entries, err := os.ReadDir(out)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(out, 0o755)
	}
	if err != nil {
		return fmt.Errorf("could not read %s: %w", out, err)
	}
	if len(entries) == 0 {
		return nil
	}
	sums, err := readSums(filepath.Join(out, SumsFile))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("could not clear %s: it is not empty and has no %s, so it is not an earlier release; remove its files or choose another -out", out, SumsFile)
	}
	if err != nil {
		return fmt.Errorf("could not clear %s: %w", out, err)
	}
	for _, e := range entries {
		n := e.Name()
		if _, listed := sums[n]; n != SumsFile && (!listed || !e.Type().IsRegular()) {
			return fmt.Errorf("could not clear %s: %s is not a release artefact (not a file %s lists); remove it or choose another -out", out, n, SumsFile)
		}
	}
	for _, e := range entries {
		if err := os.Remove(filepath.Join(out, e.Name())); err != nil {
			return fmt.Errorf("could not clear %s: %w", out, err)
		}
	}
	return nil
}

// copyFile copies src to dst (the work directory may be on another file
// system than -out).
func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("could not open %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("could not create %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("could not write %s: %w", dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("could not write %s: %w", dst, err)
	}
	return nil
}
