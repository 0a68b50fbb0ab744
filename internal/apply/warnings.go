package apply

import (
	"fmt"
	"strings"
)

// Warnings are what a run found that the admin must act on, though it
// stops nothing, in words: `broker plan` and `apply` print each as
// "warning: ...", `broker serve` logs them.
//
//   - a system left unread (no client, ClientsFromEnv): what the broker
//     made there is neither checked nor pruned; while Vault still has the
//     managed roles of its engine, apply --prune refuses (UnreadError);
//   - Vault's default policy lets every token renew the profiles' leases
//     by body, which shortens them (plan.CheckDefaultPolicy), with the
//     exact text to add to it;
//   - a managed policy with a name its server gives a meaning to
//     (plan.ReservedObject), deleted even without prune when it can be.
func Warnings(res Result) []string {
	var out []string
	for _, u := range res.Unread {
		v := envOf(u.System)
		w := fmt.Sprintf("%s was not read (%s or %s not set): the %s ACL policies the broker made there, if any, are neither checked nor deleted by --prune",
			title(u.System), v.addr, v.token, title(u.System))
		if len(u.Evidence) > 0 {
			names := make([]string, len(u.Evidence))
			for i, k := range u.Evidence {
				names[i] = k.String()
			}
			w += fmt.Sprintf("; the broker made objects there (Vault still has the broker's %s), so apply --prune refuses until %s is read", strings.Join(names, ", "), title(u.System))
		}
		out = append(out, w)
	}
	if d := res.DefaultPolicy; d.Checked() && d.Hole() {
		how := "(vault policy read default > default.hcl; append; vault policy write default default.hcl)"
		if d.Err != nil {
			out = append(out, fmt.Sprintf("could not check Vault's default policy (%v): unless it denies lease_id for the profiles' leases, every token can renew (and so shorten to a second) any user's Nomad or Consul token; make sure it has %s:\n%s",
				d.Err, how, d.Add()))
		} else {
			out = append(out, fmt.Sprintf("Vault's default policy lets every token renew the leases of the profiles' Nomad and Consul tokens by lease id (%s): a renewal with increment=1 ends any user's token a second later. Add to it %s:\n%s",
				strings.Join(d.Open, ", "), how, d.Add()))
		}
	}
	for _, r := range res.Plan.Reserved {
		out = append(out, r.String())
	}
	return out
}
