package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/apply"
	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
)

// PlanOptions are the inputs of `broker plan`.
type PlanOptions struct {
	Dir   string
	JSON  bool
	Prune bool
	// DetailedExitCode: exit 5 (cmdroot.Changes) when there are changes.
	DetailedExitCode bool
}

func newPlanCmd(e *cmdEnv) *cobra.Command {
	var o PlanOptions
	c := &cobra.Command{
		Use:   "plan [DIR]",
		Short: "Show what apply would change in Vault, Nomad and Consul",
		Long: `Read the live state of Vault, Nomad and Consul and print the create, update
and delete actions that apply would carry out, grouped by system, with the
changed fields. With --prune, also the verdict of the mass-delete guard
(whether apply --prune would refuse the plan without --allow-mass-delete).
Exit 0: the plan was made (with or without changes); 1: error or name
conflict; 2: bad flags. With --detailed-exitcode (as Terraform's, with
another code: 2 is the usage code), exit 0 means no changes and 5 means
there are changes.
Addresses and admin tokens come from VAULT_ADDR/VAULT_TOKEN, NOMAD_ADDR/
NOMAD_TOKEN and CONSUL_HTTP_ADDR/CONSUL_HTTP_TOKEN (and *_CACERT,
*_CLIENT_CERT, *_CLIENT_KEY).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Dir = dirArg(args)
			return runPlan(cmd.Context(), o, e)
		},
	}
	c.Flags().BoolVar(&o.JSON, "json", false, "print the plan as JSON on stdout")
	c.Flags().BoolVar(&o.Prune, "prune", false, "plan as for apply --prune (deletes are shown either way)")
	c.Flags().BoolVar(&o.DetailedExitCode, "detailed-exitcode", false, "exit 5 when there are changes (0: none, 1: error)")
	return c
}

func runPlan(ctx context.Context, o PlanOptions, e *cmdEnv) error {
	cfg, clients, err := connect(o.Dir, e)
	if err != nil {
		return err
	}
	defer clients.CloseIdleConnections()
	res, err := apply.Run(ctx, cfg, clients, apply.Options{DryRun: true, Prune: o.Prune})
	var cerr *apply.ConflictError
	if err != nil && !errors.As(err, &cerr) {
		return cmdroot.With(exitError, err)
	}
	warn(e.Stderr, apply.Warnings(res))
	if o.JSON {
		if jerr := plan.WriteJSON(e.Stdout, res.Plan, o.Prune); jerr != nil {
			return jerr
		}
	} else {
		plan.Write(e.Stdout, res.Plan, o.Prune)
	}
	if cerr != nil {
		return cmdroot.With(exitError, cerr)
	}
	if o.DetailedExitCode && res.Plan.Total().Total() > 0 {
		return cmdroot.Silent(exitChanges)
	}
	return nil
}

// connect loads the policies folder dir and connects to Vault, Nomad and
// Consul as the environment says: what plan and apply share before
// apply.Run. The caller closes the clients' idle connections.
func connect(dir string, e *cmdEnv) (*policy.Config, apply.Clients, error) {
	cfg, err := loadPolicies(dir, e.Stderr)
	if err != nil {
		return nil, apply.Clients{}, err
	}
	clients, err := apply.ClientsFromEnv(e.Getenv, cfg)
	if err != nil {
		return nil, apply.Clients{}, cmdroot.With(exitError, err)
	}
	return cfg, clients, nil
}

// warn prints apply.Warnings, one "warning: " each.
func warn(w io.Writer, warnings []string) {
	for _, s := range warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
}

// warnSkipped tells why deletes were not carried out.
func warnSkipped(w io.Writer, skipped []plan.Change) {
	if len(skipped) == 0 {
		return
	}
	fmt.Fprintf(w, "warning: %d managed object(s) are no longer in the policies but were kept, because deletes need --prune:\n", len(skipped))
	for _, c := range skipped {
		fmt.Fprintf(w, "  %s %q\n", c.Kind, c.Name)
	}
}

// warnLegacy lists the objects the files do not declare whose only claim
// is a marker of the version before markers named their objects: they are
// never deleted (a hand-made object set up the same way looks alike).
func warnLegacy(w io.Writer, legacy []plan.Key) {
	if len(legacy) == 0 {
		return
	}
	fmt.Fprintf(w, "warning: %d object(s) with an old-format marker are not in the policies and were not deleted (legacy); delete them by hand or declare them:\n", len(legacy))
	for _, k := range legacy {
		fmt.Fprintf(w, "  %s\n", k)
	}
}
