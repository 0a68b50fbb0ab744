package serve

import (
	"context"

	"github.com/alisw/alilogin/internal/apply"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
)

// ApplyReconciler reconciles with internal/apply, as `broker apply
// --auto-approve [--prune]` does, never with AllowMassDelete: a pruning
// plan the guard refuses comes back as an *apply.MassDeleteError.
type ApplyReconciler struct {
	Clients apply.Clients
	Prune   bool
}

// Reconcile implements Reconciler. Drift found counts the planned creates
// and updates, and the deletes when pruning (without --prune a stale
// managed object is reported by apply, not counted as drift each run),
// and the deletes that need no prune (policies with a reserved name,
// binding rules that narrow an auth method that stays), which apply
// carries out either way.
// The warnings and the check of Vault's default policy are apply's
// (apply.Warnings, Result.DefaultPolicy).
func (a ApplyReconciler) Reconcile(ctx context.Context, cfg *policy.Config) (Outcome, error) {
	res, err := apply.Run(ctx, cfg, a.Clients, apply.Options{Prune: a.Prune})
	out := Outcome{Found: map[string]int{}, Fixed: map[string]int{}}
	for sys, c := range res.Planned {
		n := c.Create + c.Update
		if a.Prune {
			n += c.Delete
		}
		out.Found[string(sys)] = n
	}
	if !a.Prune {
		for _, c := range res.Plan.Changes {
			if c.Action == plan.Delete && !c.NeedsPrune() { // deleted without prune too
				out.Found[string(c.System)]++
			}
		}
	}
	for sys, c := range res.Applied {
		out.Fixed[string(sys)] = c.Create + c.Update + c.Delete
	}
	for _, sys := range plan.Systems {
		if _, ok := out.Found[string(sys)]; !ok {
			out.Found[string(sys)] = 0
		}
	}
	out.Warnings = apply.Warnings(res)
	out.DefaultPolicyChecked, out.DefaultPolicyOpen = res.DefaultPolicy.Checked(), res.DefaultPolicy.Hole()
	return out, err
}
