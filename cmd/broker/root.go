package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/cmdroot"
)

// Exit codes of broker: the table of both tools in internal/cmdroot
// (documented in docs/commands.md#exit-codes).
const (
	exitOK        = cmdroot.OK        // success; for plan: no changes, or changes without --detailed-exitcode
	exitError     = cmdroot.Failure   // failure: invalid files, a server refused or is down
	exitUsage     = cmdroot.Usage     // bad flags or arguments, as alilogin
	exitChanges   = cmdroot.Changes   // plan --detailed-exitcode: there are changes
	exitNoProfile = cmdroot.NoProfile // explain: the roles get no profile
)

// cmdEnv is what a command may touch of the outside world.
type cmdEnv struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

func newRootCmd(ctx context.Context, e *cmdEnv) *cobra.Command {
	root := cmdroot.New(ctx, "broker", "Policies as code for alilogin: SSO roles to Vault, Nomad and Consul", e.Stdin, e.Stdout, e.Stderr, exitUsage)
	root.AddCommand(
		newValidateCmd(e),
		newPlanCmd(e),
		newApplyCmd(e),
		newExplainCmd(e),
		newServeCmd(e),
	)
	addVersion(root, e)
	return root
}

func run(ctx context.Context, args []string, e *cmdEnv) int {
	root := newRootCmd(ctx, e)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil && !cmdroot.IsSilent(err) {
		cmdroot.PrintError(e.Stderr, "broker", err)
	}
	if cmdroot.IsUsageError(err) {
		return cmdroot.Code(err, exitUsage)
	}
	return cmdroot.Code(err, exitError)
}
