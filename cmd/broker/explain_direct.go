package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/alisw/alilogin/internal/policy"
)

// explainedDirect is a profile's direct login at Nomad and Consul (their
// JWT auth methods, internal/plan/direct.go).
type explainedDirect struct {
	Mode             string `json:"mode"`
	NomadAuthMethod  string `json:"nomad_auth_method,omitempty"`
	ConsulAuthMethod string `json:"consul_auth_method,omitempty"`
	ConsulRole       string `json:"consul_role,omitempty"`
	// TokenTTL is the lifetime of each direct-login token: the profile's
	// ttl (renewal is a new login).
	TokenTTL string `json:"token_ttl"`
}

func explainDirect(p policy.Profile) *explainedDirect {
	nomad, consul := p.DirectMethods()
	if nomad == "" && consul == "" {
		return nil
	}
	d := &explainedDirect{Mode: p.DirectLogin, NomadAuthMethod: nomad, ConsulAuthMethod: consul, TokenTTL: p.TTL.String()}
	if consul != "" {
		d.ConsulRole = policy.ConsulDirectRole(p.Name)
	}
	return d
}

func printDirect(w io.Writer, d *explainedDirect) {
	if d == nil {
		return
	}
	var at []string
	if d.NomadAuthMethod != "" {
		at = append(at, "Nomad auth method "+d.NomadAuthMethod)
	}
	if d.ConsulAuthMethod != "" {
		at = append(at, "Consul auth method "+d.ConsulAuthMethod+" (role "+d.ConsulRole+")")
	}
	when := "when Vault cannot give the tokens"
	if d.Mode == policy.DirectAlways {
		when = "always, not through Vault"
	}
	fmt.Fprintf(w, "  Direct login (%s: %s): %s; each token lives %s, then a new login\n", d.Mode, when, strings.Join(at, ", "), d.TokenTTL)
}
