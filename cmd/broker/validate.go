package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/policy"
)

// defaultDir is the policies directory when none is given.
const defaultDir = "policies"

// ValidateOptions are the inputs of `broker validate`.
type ValidateOptions struct {
	Dir  string
	JSON bool // validate_json.go
}

func newValidateCmd(e *cmdEnv) *cobra.Command {
	var o ValidateOptions
	c := &cobra.Command{
		Use:   "validate [DIR]",
		Short: "Check the policies directory (default ./policies) without contacting any server",
		Long: `Parse every file of the policies directory and report every problem with
file:line:column: syntax, unknown blocks or attributes, missing or duplicate
names, bad TTLs, bad claims, and policy documents that Vault, Nomad or
Consul would reject. Exits 1 on any problem. With --json, every problem
(or warning) goes to stdout as JSON, with file, line, column, severity and
message, for CI pipelines.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Dir = dirArg(args)
			if o.JSON {
				return runValidateJSON(o, e.Stdout)
			}
			return runValidate(o, e.Stdout, e.Stderr)
		},
	}
	c.Flags().BoolVar(&o.JSON, "json", false, "print the result as JSON on stdout (diagnostics with file, line, column, severity and message)")
	return c
}

func dirArg(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return defaultDir
}

func runValidate(o ValidateOptions, stdout, stderr io.Writer) error {
	cfg, err := loadPolicies(o.Dir, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is valid: %d profile(s), %d role(s), %d Vault, %d Nomad and %d Consul policies.\n",
		o.Dir, len(cfg.Profiles), len(cfg.Roles), len(cfg.VaultPolicies), len(cfg.NomadPolicies), len(cfg.ConsulPolicies))
	return nil
}

// loadPolicies loads dir; on invalid files it prints each diagnostic on
// stderr and returns an error that ends with exit 1 and no further message.
func loadPolicies(dir string, stderr io.Writer) (*policy.Config, error) {
	cfg, err := policy.Load(dir)
	var perr *policy.Error
	if errors.As(err, &perr) {
		n := 0
		for _, d := range perr.Diagnostics {
			fmt.Fprintf(stderr, "error: %s\n", policy.FormatDiagnostic(d))
			n++
		}
		fmt.Fprintf(stderr, "%s: %d problem(s); nothing was contacted or changed\n", dir, n)
		return nil, cmdroot.Silent(exitError)
	}
	if err != nil {
		return nil, cmdroot.With(exitError, err)
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	return cfg, nil
}
