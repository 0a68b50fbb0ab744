package main

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/session"
	"github.com/alisw/alilogin/internal/tokenhelper"
)

// Exit codes of alilogin: the table of both tools in internal/cmdroot
// (documented in docs/commands.md#exit-codes).
const (
	exitError        = cmdroot.Failure     // any other failure
	exitUsage        = cmdroot.Usage       // 2: bad flags or arguments
	exitPartial      = cmdroot.Partial     // 3: login: some tokens were issued, others failed (kept)
	exitLoginNeeded  = cmdroot.LoginNeeded // 4: no usable session: run `alilogin login`
	exitMismatch     = cmdroot.Mismatch    // 7: a login of another Vault/Nomad/Consul/SSO than configured
	exitNotFound     = cmdroot.NotFound    // 127: exec: COMMAND not found
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
	// LockWait is how long logout and login wait for the profile's lock;
	// zero means session.WriterLockWait.
	LockWait time.Duration
	// VaultClient finds the process that runs the vault token helper;
	// nil means tokenhelper.FindClient.
	VaultClient func() (*tokenhelper.Client, error)
}

// environ is the process's environment (none when Environ is nil).
func (e *cmdEnv) environ() []string {
	if e.Environ == nil {
		return nil
	}
	return e.Environ()
}

func (e *cmdEnv) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// commands are alilogin's subcommands, by the name they are called with.
var commands = []struct {
	name string
	new  func(*cmdEnv) *cobra.Command
}{
	{"login", newLoginCmd},
	{"elevate", newElevateCmd},
	{"token", newTokenCmd},
	{"env", newEnvCmd},
	{"exec", newExecCmd},
	{"status", newStatusCmd},
	{"logout", newLogoutCmd},
	{"use", newUseCmd},
	{"setup", newSetupCmd},
	{"hook", newHookCmd},
	{"agent", newAgentCmd},
	{"ui", newUICmd},
	{"vault-token-helper", newVaultHelperCmd},
	{"version", newVersionCmd},
}

// newRootCmd is alilogin with all its subcommands.
func newRootCmd(ctx context.Context, e *cmdEnv) *cobra.Command { return newRootFor(ctx, e, "") }

// newRootFor is alilogin with only the subcommand named name, or all of
// them when name is none of theirs (help, completion, a flag, a typo):
// building every command and flag set costs `alilogin token` start-up
// time on every call, and cobra treats a subcommand the same with or
// without its siblings.
func newRootFor(ctx context.Context, e *cmdEnv, name string) *cobra.Command {
	root := cmdroot.New(ctx, "alilogin", "One SSO login for short-lived Vault, Nomad and Consul tokens", e.Stdin, e.Stdout, e.Stderr, exitUsage)
	for _, c := range commands {
		if c.name == name {
			root.AddCommand(c.new(e))
			return root
		}
	}
	setVersionFlag(root)
	for _, c := range commands {
		sub := c.new(e)
		// Only with every command built: a shell's completion (cobra's
		// __complete) runs through here.
		if sub.Flags().Lookup("profile") != nil {
			_ = sub.RegisterFlagCompletionFunc("profile", completeProfiles(e, false))
		}
		root.AddCommand(sub)
	}
	return root
}

// run runs alilogin with args and returns the exit code.
func run(ctx context.Context, args []string, e *cmdEnv) int {
	var name string
	if len(args) > 0 {
		name = args[0]
	}
	root := newRootFor(ctx, e, name)
	root.SetArgs(args)
	err := withHint(root.Execute()) // hints.go
	if err != nil && !cmdroot.IsSilent(err) {
		cmdroot.PrintError(e.Stderr, "alilogin", err)
	}
	return exitCode(err)
}

// exitCode maps a command's error to the documented exit codes: its
// own (cmdroot.With), else 2 for a usage error (cobra's, or
// internal/session's *session.UsageError), else exitCodeFallback.
func exitCode(err error) int {
	if cmdroot.IsUsageError(err) || errors.As(err, new(*session.UsageError)) {
		return cmdroot.Code(err, exitUsage)
	}
	return cmdroot.Code(err, exitCodeFallback)
}
