package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/kvsecret"
)

// secretOptions are exec's --secret and --secret-file flags.
type secretOptions struct {
	Secrets     []string
	SecretFiles []string
	Specs       []kvsecret.Spec // parsed from the two flags
}

func addSecretFlags(c *cobra.Command, o *secretOptions) {
	c.Flags().StringArrayVar(&o.Secrets, "secret", nil, "VAR=<kv path>#<field>: read the field from Vault KV right before COMMAND starts and put it in COMMAND's VAR (repeatable)")
	c.Flags().StringArrayVar(&o.SecretFiles, "secret-file", nil, "VAR=<kv path>#<field>: write the field into a private file removed when COMMAND ends, and put the file's path in VAR (repeatable)")
	_ = c.RegisterFlagCompletionFunc("secret", cobra.NoFileCompletions)
	_ = c.RegisterFlagCompletionFunc("secret-file", cobra.NoFileCompletions)
}

// parse checks the flags before anything else happens (exit 2).
func (o *secretOptions) parse() error {
	specs, err := kvsecret.ParseAll(o.Secrets, o.SecretFiles)
	if err != nil {
		return cmdroot.With(exitUsage, err)
	}
	o.Specs = specs
	return nil
}

// execWithSecrets runs COMMAND with the secrets. With --secret only,
// alilogin replaces itself with COMMAND as exec does; with --secret-file
// it stays to remove the files when COMMAND ends, passing signals on and
// COMMAND's exit code back.
func execWithSecrets(e *cmdEnv, path string, argv, env []string, vals []kvsecret.Value) error {
	var files *kvsecret.Files
	// Signals are taken before the files exist: from then on one that
	// ends COMMAND also lets alilogin remove them.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	for _, v := range vals {
		if v.Spec.File {
			f, err := kvsecret.WriteFiles(kvsecret.BaseDir(e.getenv), vals)
			if err != nil {
				return err
			}
			files = f
			break
		}
	}
	env = kvsecret.Environ(env, vals, files)
	if files == nil {
		signal.Stop(sigs)
		return execCommand(path, argv, env)
	}
	err := runChild(path, argv, env, sigs)
	if rerr := files.Remove(); rerr != nil {
		fmt.Fprintf(e.Stderr, "alilogin: warning: %s\n", rerr)
	}
	return err
}

// runChild runs COMMAND as a child with the terminal, passes signals on
// (not a Ctrl-C that the terminal gave COMMAND itself) and returns its exit code (128+n when a signal ended it).
func runChild(path string, argv, env []string, sigs chan os.Signal) error {
	cmd := exec.Command(path, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not run %s: %w", path, err)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				if !fromTerminal(s) {
					_ = cmd.Process.Signal(s)
				}
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	if err == nil {
		return nil
	}
	if ee, ok := err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return cmdroot.Silent(128 + int(ws.Signal()))
		}
	}
	return childExit(err)
}
