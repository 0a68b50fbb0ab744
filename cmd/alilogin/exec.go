package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/kvsecret"
	"github.com/alisw/alilogin/internal/session"
)

// execOptions are the flags and arguments of `alilogin exec`.
type execOptions struct {
	sessionOptions
	For     []string
	MinTTL  time.Duration
	Verbose bool
	Command []string
	secretOptions
	agentFlag
	// Elevated: the gates of the profile's open attended window
	// (alilogin elevate); implies --agent.
	Elevated bool
}

func newExecCmd(e *cmdEnv) *cobra.Command {
	return newExecCmdWith(e, runExec)
}

func newExecCmdWith(e *cmdEnv, runF func(context.Context, *cmdEnv, *execOptions) error) *cobra.Command {
	o := &execOptions{}
	c := &cobra.Command{
		Use:   "exec [flags] [-- COMMAND [ARGS...]]",
		Short: "Run a command with the profile's tokens in its environment",
		Long: `Run COMMAND with the environment that 'alilogin env' prints: the tokens
(renewed as needed), the addresses and TLS settings, ALILOGIN_PROFILE and
ALILOGIN_TOKEN_EXPIRY. Stale VAULT_TOKEN, NOMAD_TOKEN and CONSUL_HTTP_TOKEN are
removed first, and so is every variable that would send a token elsewhere or
check its server more weakly (VAULT_AGENT_ADDR, VAULT_PROXY_ADDR, BAO_*,
*_SKIP_VERIFY, CONSUL_GRPC_ADDR...: see 'alilogin env'). HTTP_PROXY and the
other proxy variables stay, with the servers' hosts added to NO_PROXY and
no_proxy; http2debug is taken out of GODEBUG. On Linux and macOS alilogin
replaces itself with COMMAND, so
signals reach it directly and its exit code is alilogin's. Nesting is refused:
ALILOGIN_EXEC is set in COMMAND's environment. Without COMMAND, it starts
$SHELL (/bin/sh when SHELL is not set), as aws-vault does.

Without --for, a COMMAND that is the vault (or bao), nomad or consul CLI
(by file name, with a version or not) gets only that server's token:
'nomad job run' copies VAULT_TOKEN and CONSUL_HTTP_TOKEN into the job it
submits. Give --for to hand it more (--for nomad,vault).`,
		Example: `  alilogin exec -- nomad job status
  alilogin exec --profile ci --for nomad -- ./deploy.sh
  alilogin exec --profile ci     # a shell with the tokens; exit it to drop them`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if _, err := session.ParseKinds(o.For); err != nil {
				return err
			}
			if err := o.secretOptions.parse(); err != nil {
				return err
			}
			o.Command = args
			o.agentFlag.parse(c)
			if o.Elevated {
				if o.agentFlag.Set && !o.agentFlag.Agent {
					return cmdroot.With(exitUsage, errors.New("--elevated works through the agent only: it cannot go with --agent=false"))
				}
				o.agentFlag = agentFlag{Agent: true, Set: true}
			}
			if len(o.Command) == 0 {
				o.Command = e.defaultCommand() // execshell.go
			}
			if !c.Flags().Changed("for") {
				o.For = defaultFor(o.Command[0])
			}
			return runF(c.Context(), e, o)
		},
	}
	addSessionFlags(c, &o.sessionOptions)
	addKindFlags(c, &o.For, &o.MinTTL, &o.Verbose)
	addSecretFlags(c, &o.secretOptions)
	addAgentFlag(c, &o.agentFlag)
	c.Flags().BoolVar(&o.Elevated, "elevated", false, "through the agent with the gates of the profile's open attended window (alilogin elevate); implies --agent")
	c.Flags().SetInterspersed(false) // flags after COMMAND are COMMAND's
	return c
}

func runExec(ctx context.Context, e *cmdEnv, o *execOptions) error {
	if err := session.RefuseNesting(e.getenv); err != nil {
		return err
	}
	path, err := exec.LookPath(o.Command[0])
	if err != nil {
		return cmdroot.With(exitNotFound, fmt.Errorf("could not find command %s: %w", o.Command[0], err))
	}
	eo, err := ensureOptions(o.For, o.MinTTL, o.Verbose)
	if err != nil {
		return err
	}
	s, err := openSession(e, o.sessionOptions)
	if err != nil {
		return err
	}
	if o.agentFlag.on(s) {
		return runExecAgent(ctx, e, o, s, path, eo) // execagent.go
	}
	h, rec, err := s.Handout(ctx, eo, len(o.Specs) > 0)
	if err != nil {
		return loginError(s.Profile, err)
	}
	env := h.Child(e.environ())
	if len(o.Specs) > 0 {
		// Read with the Vault token the one renewal above brought up
		// to date, in parallel: any that is missing or denied stops
		// here, before COMMAND.
		vals, err := kvsecret.ReadAt(ctx, s.Config.Vault.Addr, s.Config.Vault.TLS, rec.Vault.Secret, s.Profile, o.Specs)
		if err != nil {
			return err
		}
		return execWithSecrets(e, path, o.Command, env, vals)
	}
	return execCommand(path, o.Command, env)
}

// cliCommand is the file name of a server's CLI, with a version after
// it as versioned installs have it, and .exe on Windows.
var cliCommand = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?i:(vault|bao|nomad|consul)([-_.]?v?[0-9][0-9A-Za-z.+_-]*)?(\.exe)?)$`)
})

// defaultFor is exec's --for when none is given: for the vault (or bao),
// nomad or consul CLI, only that server's token, since a CLI may copy
// the other tokens of its environment to its server (nomad job run,
// plan and revert put VAULT_TOKEN and CONSUL_HTTP_TOKEN into the job they
// submit, nomad 1.6 command/job_run.go); nil (every token the profile
// has) for any other command.
func defaultFor(command string) []string {
	m := cliCommand().FindStringSubmatch(filepath.Base(command))
	if m == nil {
		return nil
	}
	switch strings.ToLower(m[1]) {
	case "vault", "bao":
		return []string{"vault"}
	case "nomad":
		return []string{"nomad"}
	}
	return []string{"consul"}
}

// exitError is how execCommand reports a child's exit code where it runs
// the child instead of replacing itself.
func childExit(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if code < 0 {
			code = 1
		}
		return cmdroot.Silent(code)
	}
	return fmt.Errorf("could not run the command: %w", err)
}
