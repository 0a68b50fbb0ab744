package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/exitcode"
)

// Exit codes of alilogin (documented in docs/user-guide.md).
const (
	exitOK           = 0 // success
	exitError        = 1 // any other failure
	exitUsage        = 2 // bad flags or arguments
	exitPartial      = 3 // login: some tokens were issued, others failed (kept)
	exitLoginNeeded  = 4 // no usable session: run `alilogin login`
	exitNotLoggedIn  = exitLoginNeeded
	exitCodeFallback = exitError
)

// cmdEnv is what a command may touch of the outside world; tests give
// their own.
type cmdEnv struct {
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Getenv  func(string) string
	Environ func() []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (e *cmdEnv) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func newRootCmd(ctx context.Context, e *cmdEnv) *cobra.Command {
	root := &cobra.Command{
		Use:           "alilogin",
		Short:         "One SSO login for short-lived Vault, Nomad and Consul tokens",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetContext(ctx)
	root.SetIn(e.Stdin)
	root.SetOut(e.Stdout)
	root.SetErr(e.Stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exitcode.With(exitUsage, fmt.Errorf("%w\nrun '%s --help' for usage", err, c.CommandPath()))
	})
	root.AddCommand(
		newLoginCmd(e),
		newTokenCmd(e),
		newEnvCmd(e),
		newExecCmd(e),
		newStatusCmd(e),
		newLogoutCmd(e),
		newSetupCmd(e),
		newVersionCmd(e),
	)
	return root
}

// run runs alilogin with args and returns the exit code.
func run(ctx context.Context, args []string, e *cmdEnv) int {
	root := newRootCmd(ctx, e)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil && !exitcode.IsSilent(err) {
		fmt.Fprintf(e.Stderr, "alilogin: %v\n", err)
	}
	return exitCode(err)
}

// exitCode maps a command's error to the documented exit codes.
func exitCode(err error) int {
	if err != nil && isUsageError(err) {
		return exitcode.Code(err, exitUsage)
	}
	return exitcode.Code(err, exitCodeFallback)
}

// isUsageError recognises cobra's argument errors.
func isUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
