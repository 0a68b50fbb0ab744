package guard

import (
	"fmt"
	"strings"

	"github.com/alisw/alilogin/internal/config"
)

// FromConfig is the Rules of profile in a resolved configuration: its
// read-only setting (the broker's policies through the discovery document,
// or the user's config file: config.Profile.AgentReadOnly), the Vault
// mounts of the nomad, consul and PKI engines, and a read-only hint that
// says who made the profile read-only and which configured profiles are
// not. A profile with an attended tier is read-only too, with the hint
// "run: alilogin elevate --profile P".
func FromConfig(c *config.Config, profile string) Rules {
	r := Rules{Mounts: Mounts{Nomad: c.Nomad.Mount, Consul: c.Consul.Mount, PKI: c.PKIMount}}
	p, ok := c.Profile(profile)
	if ok && p.Attended != nil {
		// A profile with an attended tier writes through the agent only
		// with an elevated gate (internal/agent elevated.go): its
		// ordinary gates are read-only.
		r.ReadOnly = true
		r.ReadOnlyHint = fmt.Sprintf("profile %s writes only inside an attended window; run: alilogin elevate --profile %s", profile, profile)
		return r
	}
	if !ok || !p.AgentReadOnly {
		return r
	}
	r.ReadOnly = true
	by := p.AgentReadOnlyBy
	if by == "" {
		by = "the configuration"
	}
	r.ReadOnlyHint = fmt.Sprintf("profile %s is read-only through the agent (%s)", profile, by)
	var others []string
	for _, o := range c.Profiles {
		if o.Name != profile && !o.AgentReadOnly {
			others = append(others, o.Name)
		}
	}
	if len(others) > 0 {
		r.ReadOnlyHint += "; profiles that are not: " + strings.Join(others, ", ")
	}
	return r
}
