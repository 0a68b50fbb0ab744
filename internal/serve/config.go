package serve

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/alisw/alilogin/internal/discovery"
	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
)

// Public are the addresses alilogin users reach the servers at; they may
// differ from the broker's own (an internal Vault address, say).
type Public struct {
	VaultAddr  string
	NomadAddr  string // empty: the policies' nomad address
	ConsulAddr string // empty: the policies' consul address
}

// state is one good configuration and what is derived from it.
type state struct {
	cfg        *policy.Config
	generation int64
	hash       string // the folder's fingerprint (Content)
	loadedAt   time.Time
	discovery  []byte // rendered JSON
}

// Discovery renders the public discovery document of cfg.
func Discovery(cfg *policy.Config, pub Public) discovery.Document {
	d := discovery.Document{
		Version: discovery.Version,
		SSO: discovery.SSO{Issuer: cfg.SSO.Issuer, ClientID: cfg.SSO.ClientID,
			RolesClaim: cfg.SSO.RolesClaim, UserClaim: cfg.SSO.UserClaim},
		Vault: discovery.Vault{Addr: firstNonEmpty(pub.VaultAddr, cfg.Vault.Addr), JWTMount: cfg.Vault.JWTMount,
			NomadMount: cfg.Vault.NomadMount, ConsulMount: cfg.Vault.ConsulMount, PKIMount: cfg.Vault.PKIMount},
		Nomad:    discovery.Server{Addr: firstNonEmpty(pub.NomadAddr, cfg.Nomad.Addr)},
		Consul:   discovery.Server{Addr: firstNonEmpty(pub.ConsulAddr, cfg.Consul.Addr)},
		Profiles: []discovery.Profile{},
	}
	for _, p := range cfg.Profiles {
		dp := discovery.Profile{Name: p.Name, Description: p.Description, Roles: append([]string{}, p.Roles...),
			Nomad: len(p.NomadPolicies) > 0, Consul: len(p.ConsulPolicies) > 0,
			Agent: discovery.Agent{ReadOnly: p.Agent.ReadOnly}}
		if p.TTL > 0 {
			dp.TTL = p.TTL.String()
		}
		if p.MaxTTL > 0 {
			dp.MaxTTL = p.MaxTTL.String()
		}
		dp.Attended = discoveryAttended(cfg, p)
		if nomad, consul := p.DirectMethods(); nomad != "" || consul != "" {
			dp.Direct = &discovery.Direct{Mode: p.DirectLogin, NomadAuthMethod: nomad, ConsulAuthMethod: consul}
		}
		d.Profiles = append(d.Profiles, dp)
	}
	return d
}

func renderDiscovery(cfg *policy.Config, pub Public) ([]byte, error) {
	b, err := json.MarshalIndent(Discovery(cfg, pub), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("could not render the discovery document: %w", err)
	}
	return append(b, '\n'), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// discoveryAttended is the discovery entry of p's attended tier; nil when
// it has none.
func discoveryAttended(cfg *policy.Config, p policy.Profile) *discovery.Attended {
	a := p.Attended
	if !a.Enabled() || cfg.Attended == nil {
		return nil
	}
	out := &discovery.Attended{OIDCMount: cfg.Vault.OIDCMount, Role: plan.RoleName(plan.OIDCRole, p.Name),
		Window: a.Window.String(), Uses: a.Uses, MaxAge: a.MaxAge.String(), RedirectPath: plan.RedirectPath}
	if a.GrantsNomad() {
		out.NomadRole = plan.RoleName(plan.AttendedNomadRole, p.Name)
	}
	if a.GrantsConsul() {
		out.ConsulRole = plan.RoleName(plan.AttendedConsulRole, p.Name)
	}
	return out
}
