package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/alisw/alilogin/internal/cmdroot"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
	"github.com/alisw/alilogin/internal/termtext"
)

// ExplainOptions are the inputs of `broker explain`.
type ExplainOptions struct {
	Dir   string
	Roles []string
	JSON  bool
}

func newExplainCmd(e *cmdEnv) *cobra.Command {
	var o ExplainOptions
	c := &cobra.Command{
		Use:   "explain [DIR] --roles ROLE[,ROLE...]",
		Short: "Show which profiles a user with the given SSO roles may use, and what each grants",
		Long: `Given the SSO roles of a user (e-groups mapped to roles at the CERN
Application Portal), list the profiles they may log in with and, for each,
the resulting Vault, Nomad and Consul policies and token lifetimes. Reads
the files only. Exit 0 when the roles get at least one profile, 6 when
they get none (said on stderr; with --json, the empty list is printed on
stdout all the same), 1 on invalid files.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Dir = dirArg(args)
			return runExplain(o, e.Stdout, e.Stderr)
		},
	}
	c.Flags().StringSliceVar(&o.Roles, "roles", nil, "the user's SSO roles, comma-separated (required)")
	c.Flags().BoolVar(&o.JSON, "json", false, "print JSON")
	return c
}

// explained is one usable profile.
type explained struct {
	Profile        string   `json:"profile"`
	Description    string   `json:"description,omitempty"`
	Via            []string `json:"via_roles"`
	VaultPolicies  []string `json:"vault_policies"`
	NomadPolicies  []string `json:"nomad_policies"`
	ConsulPolicies []string `json:"consul_policies"`
	TTL            string   `json:"ttl"`
	MaxTTL         string   `json:"max_ttl"`
	// ClientCert: explain_clientcert.go.
	ClientCert *explainedCert `json:"client_certificate,omitempty"`
	// AgentReadOnly: agent { read_only = true } (internal/agent/guard).
	AgentReadOnly bool `json:"agent_read_only,omitempty"`
	// Direct: explain_direct.go.
	Direct *explainedDirect `json:"direct_login,omitempty"`
	// Attended: explain_attended.go.
	Attended *explainedAttended `json:"attended,omitempty"`
}

// explain answers for roles from cfg alone (plan.Grants).
func explain(cfg *policy.Config, roles []string) []explained {
	out := []explained{}
	for _, g := range plan.Grants(cfg, roles) {
		p := g.Profile
		out = append(out, explained{
			Profile: p.Name, Description: p.Description, Via: g.Via,
			VaultPolicies: g.VaultPolicies, NomadPolicies: g.NomadPolicies, ConsulPolicies: g.ConsulPolicies,
			TTL: p.TTL.String(), MaxTTL: p.MaxTTL.String(),
			ClientCert:    explainCert(cfg, p),
			AgentReadOnly: p.Agent.ReadOnly,
			Direct:        explainDirect(p),
			Attended:      explainAttended(cfg, p),
		})
	}
	return out
}

func runExplain(o ExplainOptions, stdout, stderr io.Writer) error {
	var roles []string
	for _, r := range o.Roles {
		if r = strings.TrimSpace(r); r != "" {
			roles = append(roles, r)
		}
	}
	if len(roles) == 0 {
		return cmdroot.With(exitUsage, fmt.Errorf("--roles needs at least one SSO role"))
	}
	cfg, err := loadPolicies(o.Dir, stderr)
	if err != nil {
		return err
	}
	res := explain(cfg, roles)
	if o.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"roles": roles, "profiles": res}); err != nil {
			return err
		}
	}
	if len(res) == 0 {
		return noProfile(cfg, roles)
	}
	if o.JSON {
		return nil
	}
	fmt.Fprintf(stdout, "A user with the roles %s may use %d profile(s):\n", strings.Join(roles, ", "), len(res))
	for _, x := range res {
		fmt.Fprintf(stdout, "\n%s (via %s)\n", x.Profile, strings.Join(x.Via, ", "))
		if x.Description != "" {
			fmt.Fprintf(stdout, "  %s\n", x.Description)
		}
		fmt.Fprintf(stdout, "  Vault policies:  %s\n", list(x.VaultPolicies))
		fmt.Fprintf(stdout, "  Nomad policies:  %s\n", list(x.NomadPolicies))
		fmt.Fprintf(stdout, "  Consul policies: %s\n", list(x.ConsulPolicies))
		fmt.Fprintf(stdout, "  Token TTL %s, max %s\n", x.TTL, x.MaxTTL)
		printCert(stdout, x.ClientCert)
		printDirect(stdout, x.Direct)
		if x.AgentReadOnly {
			fmt.Fprintf(stdout, "  Through the alilogin agent: read-only routes\n")
		}
		printAttended(stdout, x.Attended)
	}
	if len(res) > 1 {
		fmt.Fprintf(stdout, "\nWith several profiles, choose one: alilogin login --profile NAME\n")
	}
	return nil
}

func list(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}

// noProfile is explain's answer for roles that get no profile: exit 6
// (cmdroot.NoProfile), naming the roles that would.
func noProfile(cfg *policy.Config, roles []string) error {
	var known []string
	for _, p := range cfg.Profiles {
		known = append(known, p.Roles...)
	}
	slices.Sort(known)
	known = slices.Compact(known)
	return cmdroot.With(exitNoProfile, fmt.Errorf("no profile allows the roles %s: a user with only these roles cannot log in; the profiles of %s allow %s",
		strings.Join(termtext.CleanAll(roles), ", "), cfg.Dir, list(known)))
}
