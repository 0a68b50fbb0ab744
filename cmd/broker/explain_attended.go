package main

import (
	"fmt"
	"io"

	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
)

// explainedAttended is a profile's attended tier: what alilogin elevate
// gets after a fresh sign-in (internal/plan/attended.go).
type explainedAttended struct {
	Command string `json:"command"`
	// VaultPolicies are those of the privileged Vault token (the OIDC
	// role's, and default; no role-block groups).
	VaultPolicies   []string `json:"vault_policies"`
	NomadPolicies   []string `json:"nomad_policies"`
	NomadManagement bool     `json:"nomad_management,omitempty"`
	ConsulPolicies  []string `json:"consul_policies"`
	Window          string   `json:"window"`
	Uses            int      `json:"uses"` // 0: no budget
	MaxAge          string   `json:"max_age"`
	ACR             string   `json:"acr,omitempty"`
}

func explainAttended(cfg *policy.Config, p policy.Profile) *explainedAttended {
	a := p.Attended
	if !a.Enabled() || cfg.Attended == nil {
		return nil
	}
	return &explainedAttended{
		Command:       "alilogin elevate --profile " + p.Name,
		VaultPolicies: append(plan.OIDCRolePolicies(p), "default"), NomadPolicies: nonNil(a.NomadPolicies),
		NomadManagement: a.NomadManagement, ConsulPolicies: nonNil(a.ConsulPolicies),
		Window: a.Window.String(), Uses: a.Uses, MaxAge: a.MaxAge.String(), ACR: a.ACR,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func printAttended(w io.Writer, a *explainedAttended) {
	if a == nil {
		return
	}
	acr := ""
	if a.ACR != "" {
		acr = fmt.Sprintf(", carrying acr %q", a.ACR)
	}
	fmt.Fprintf(w, "  Attended tier (%s), after a sign-in at most %s old%s:\n", a.Command, a.MaxAge, acr)
	fmt.Fprintf(w, "    Vault policies:  %s\n", list(a.VaultPolicies))
	if a.NomadManagement {
		fmt.Fprintf(w, "    Nomad:           a management token\n")
	} else {
		fmt.Fprintf(w, "    Nomad policies:  %s\n", list(a.NomadPolicies))
	}
	fmt.Fprintf(w, "    Consul policies: %s\n", list(a.ConsulPolicies))
	budget := "no use budget"
	if a.Uses > 0 {
		budget = fmt.Sprintf("at most %d write request(s)", a.Uses)
	}
	fmt.Fprintf(w, "    Window at most %s, %s\n", a.Window, budget)
}
