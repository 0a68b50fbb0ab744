package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var targets string
	fs.StringVar(&o.Repo, "repo", ".", "the alilogin repository (a git work tree)")
	fs.StringVar(&o.Out, "out", "dist", "where the artefacts go; emptied first if it holds an earlier release (only the files its SHA256SUMS lists)")
	fs.StringVar(&o.Version, "version", "", "the release to build: needs a clean work tree and this tag at HEAD (default: a snapshot, from git tags, a Go pseudo-version between tags)")
	fs.StringVar(&targets, "targets", strings.Join(defaultTargets, ","), "GOOS/GOARCH pairs to build")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "release: unexpected arguments: %q\n", fs.Args())
		return 2
	}
	o.Targets = strings.Split(targets, ",")
	o.Log = stderr
	r, err := release(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "release: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s %s (%s, %s): %d files in %s\n", "alilogin", r.Version, r.Commit, r.Date.Format("2006-01-02T15:04:05Z"), len(r.Files), o.Out)
	return 0
}
