package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/alisw/alilogin/internal/apply"
	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/plan"
)

// ApplyOptions are the inputs of `broker apply`.
type ApplyOptions struct {
	Dir         string
	AutoApprove bool
	Prune       bool
	// AllowMassDelete lets --prune carry out a plan the mass-delete guard
	// refuses (more than half of the managed objects, or every one of a
	// kind).
	AllowMassDelete bool
	// Interactive: stdin and stderr are a terminal, so we may ask.
	Interactive bool
}

func newApplyCmd(e *cmdEnv) *cobra.Command {
	var o ApplyOptions
	c := &cobra.Command{
		Use:   "apply [DIR]",
		Short: "Make Vault, Nomad and Consul match the policies directory",
		Long: `Plan as 'broker plan' does, show the plan, ask for confirmation on a
terminal (or take --auto-approve), then write the changes in dependency
order: Nomad and Consul ACL policies, Vault policies, the Vault nomad and
consul roles, then the JWT auth config, JWT roles and identity groups.
Objects the broker does not manage are never changed. Managed objects that
the files no longer declare are deleted only with --prune. A pruning plan
that would delete more than half of the managed objects, or every managed
object of a kind (of two or more), is refused (exit 1, nothing written)
unless --allow-mass-delete is given.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Dir = dirArg(args)
			o.Interactive = isTerminal(e.Stdin) && isTerminal(e.Stderr)
			return runApply(cmd.Context(), o, e)
		},
	}
	c.Flags().BoolVar(&o.AutoApprove, "auto-approve", false, "apply without asking")
	c.Flags().BoolVar(&o.Prune, "prune", false, "also delete managed objects the files no longer declare")
	c.Flags().BoolVar(&o.AllowMassDelete, "allow-mass-delete", false, "with --prune: carry out a plan that deletes more than half of the managed objects, or all of a kind")
	return c
}

func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

func runApply(ctx context.Context, o ApplyOptions, e *cmdEnv) error {
	if o.AllowMassDelete && !o.Prune {
		return cmdroot.With(exitUsage, errors.New("--allow-mass-delete only means something with --prune"))
	}
	if !o.AutoApprove && !o.Interactive {
		return cmdroot.With(exitUsage, errors.New("refusing to apply without a terminal to confirm on; review with 'broker plan', then run 'broker apply --auto-approve'"))
	}
	cfg, clients, err := connect(o.Dir, e)
	if err != nil {
		return err
	}
	defer clients.CloseIdleConnections()
	opts := apply.Options{Prune: o.Prune, AllowMassDelete: o.AllowMassDelete}
	warned := false // the warnings go before the question
	opts.Confirm = func(r apply.Result) (bool, error) {
		plan.Write(e.Stderr, r.Plan, o.Prune)
		warn(e.Stderr, apply.Warnings(r))
		warned = true
		if o.AutoApprove {
			return true, nil
		}
		return confirm(e.Stdin, e.Stderr)
	}
	res, err := apply.Run(ctx, cfg, clients, opts)
	var cerr *apply.ConflictError
	var merr *apply.MassDeleteError
	var uerr *apply.UnreadError
	if errors.As(err, &cerr) || errors.As(err, &merr) || errors.As(err, &uerr) {
		plan.Write(e.Stderr, res.Plan, o.Prune)
	}
	if !warned {
		warn(e.Stderr, apply.Warnings(res))
	}
	if uerr != nil {
		return cmdroot.With(exitError, err)
	}
	if merr != nil {
		return cmdroot.With(exitError, err)
	}
	if err != nil {
		if errors.Is(err, apply.ErrNotConfirmed) {
			fmt.Fprintln(e.Stderr, err)
			return cmdroot.Silent(exitError)
		}
		reportApplied(e.Stderr, res)
		return cmdroot.With(exitError, fmt.Errorf("%w\nrun 'broker apply' again once the cause is fixed: it carries on where this run stopped", err))
	}
	warnSkipped(e.Stderr, res.Skipped)
	if res.TotalWrites() == 0 {
		warnLegacy(e.Stderr, res.Plan.Legacy)
		if len(res.Skipped) == 0 {
			fmt.Fprintln(e.Stdout, "No changes: Vault, Nomad and Consul match the policies.")
		} else {
			fmt.Fprintln(e.Stdout, "Nothing applied: the only changes are deletes, which need --prune.")
		}
		return nil
	}
	reportApplied(e.Stdout, res)
	return nil
}

func reportApplied(w io.Writer, res apply.Result) {
	var parts []string
	for _, sys := range plan.Systems {
		n := res.Applied[sys]
		if n.Total() == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d created, %d updated, %d deleted", sys, n.Create, n.Update, n.Delete))
	}
	if len(parts) == 0 {
		parts = []string{"nothing"}
	}
	fmt.Fprintf(w, "Applied: %s (%d write calls).\n", strings.Join(parts, "; "), res.TotalWrites())
}

// confirm asks on the terminal; only "yes" goes ahead.
func confirm(in io.Reader, out io.Writer) (bool, error) {
	fmt.Fprint(out, "\nApply these changes? Only 'yes' is accepted: ")
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("could not read the answer: %w", err)
	}
	return strings.TrimSpace(line) == "yes", nil
}
