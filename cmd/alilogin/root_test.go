package main

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/testutil"
)

func TestCommandsNamed(t *testing.T) {
	e, _, _ := testEnv(nil)
	for _, c := range commands {
		if got := c.new(e).Name(); got != c.name {
			t.Errorf("commands entry %q builds %q", c.name, got)
		}
	}
}

// TestRootForOneCommand: a root with only the command that runs behaves
// as the full one: output, errors, help and exit codes.
func TestRootForOneCommand(t *testing.T) {
	type result struct {
		Code           int
		Stdout, Stderr string
	}
	exec := func(build func(context.Context, *cmdEnv) *cobra.Command, args []string) result {
		e, out, errb := testEnv(testutil.Home(t, nil))
		root := build(context.Background(), e)
		root.SetArgs(args)
		err := root.Execute()
		if err != nil && !cmdroot.IsSilent(err) {
			errb.WriteString(err.Error())
		}
		return result{exitCode(err), out.String(), errb.String()}
	}
	for _, args := range [][]string{
		{"token", "--help"}, {"token", "-h"}, {"token"}, {"token", "--for", "bogus"}, {"token", "--for", "nomad", "extra"},
		{"token", "--bogus"}, {"token", "--min-ttl", "x", "--for", "nomad"}, {"token", "--for=vault", "-p", "../x"},
		{"version", "extra"}, {"login", "--help"}, {"logout", "--bogus"}, {"env", "--help"}, {"env", "--shell", "tcsh"},
		{"exec", "--help"}, {"status", "--help"}, {"setup"}, {"setup", "--broker", "x"},
	} {
		full := exec(newRootCmd, args)
		one := exec(func(ctx context.Context, e *cmdEnv) *cobra.Command { return newRootFor(ctx, e, args[0]) }, args)
		if full.Stdout+full.Stderr == "" {
			t.Errorf("%q: no output to compare", args)
		}
		if diff := cmp.Diff(full, one); diff != "" {
			t.Errorf("%q: (-all commands +one):\n%s", args, diff)
		}
	}
}

func TestSignalContext(t *testing.T) {
	ctx := &signalContext{Context: context.Background(), sigs: []os.Signal{syscall.SIGUSR1}}
	ctx.stop() // unused: nothing to release
	ctx = &signalContext{Context: context.Background(), sigs: []os.Signal{syscall.SIGUSR1}}
	if ctx.Err() != nil {
		t.Fatal("cancelled at start")
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("not cancelled by the signal")
	}
	ctx.stop()
}
