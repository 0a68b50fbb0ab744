package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes of broker (documented in docs/admin-guide.md).
const (
	exitOK      = 0 // success; for plan: no changes
	exitError   = 1 // failure: invalid files, a server refused or is down
	exitChanges = 2 // plan only: there are changes (like terraform -detailed-exitcode)
	exitUsage   = 64
)

// cmdEnv is what a command may touch of the outside world.
type cmdEnv struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codeError{code: code, err: err}
}

// silentExit ends with code; the command already said why.
type silentExit struct{ code int }

func (e silentExit) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func newRootCmd(ctx context.Context, e *cmdEnv) *cobra.Command {
	root := &cobra.Command{
		Use:           "broker",
		Short:         "Policies as code for alilogin: SSO roles to Vault, Nomad and Consul",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetContext(ctx)
	root.SetIn(e.Stdin)
	root.SetOut(e.Stdout)
	root.SetErr(e.Stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return withCode(exitUsage, fmt.Errorf("%w\nrun '%s --help' for usage", err, c.CommandPath()))
	})
	root.AddCommand(
		newValidateCmd(e),
		newPlanCmd(e),
		newApplyCmd(e),
		newExplainCmd(e),
		newServeCmd(e),
	)
	return root
}

func run(ctx context.Context, args []string, e *cmdEnv) int {
	root := newRootCmd(ctx, e)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var se silentExit
	if errors.As(err, &se) {
		return se.code
	}
	fmt.Fprintf(e.Stderr, "broker: %v\n", err)
	var ce *codeError
	if errors.As(err, &ce) {
		return ce.code
	}
	if strings.Contains(err.Error(), "unknown command") || strings.Contains(err.Error(), "accepts ") {
		return exitUsage
	}
	return exitError
}
