package teststack

import (
	"context"
	"fmt"
	"strings"

	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
)

// ProfileSpec is an alilogin profile configured the way `broker apply`
// would: a Vault JWT role, the Vault policy the broker generates (reads the
// profile's creds, revokes its leases),
// and (optionally) Nomad and Consul ACL policies with Vault roles.
type ProfileSpec struct {
	Name  string
	Roles []string // allowed SSO roles
	// RolesClaim is the claim bound in Vault: "cern_roles" by default, or
	// a JSON pointer such as /resource_access/<client>/roles.
	RolesClaim string
	ClientID   string // bound audience; default the stack's Hydra client
	TTL        string // Vault token TTL, default 1h
	// NomadRules / ConsulRules are ACL policy rules; empty = no such token.
	NomadRules  string
	ConsulRules string
	Mounts      Mounts
}

// Mounts are the Vault mounts a profile uses; empty fields take the
// defaults jwt, nomad and consul.
type Mounts struct{ JWT, Nomad, Consul string }

func (m Mounts) withDefaults() Mounts {
	if m.JWT == "" {
		m.JWT = "jwt"
	}
	if m.Nomad == "" {
		m.Nomad = "nomad"
	}
	if m.Consul == "" {
		m.Consul = "consul"
	}
	return m
}

// VaultPolicy is the name of the Vault policy SetupProfile gives a profile.
func VaultPolicy(profile string) string { return "alilogin-" + profile }

// EnsureMounts enables, on vault (nil = the stack's Vault), the JWT auth
// method pointed at Hydra and the nomad and consul secrets engines (with
// the body renewal of their leases denied in Vault's default policy,
// DenyLeaseRenewalByDefault), unless they are already there.
func (s *Stack) EnsureMounts(ctx context.Context, vault *Vault, m Mounts) error {
	if vault == nil {
		vault = s.Vault
	}
	m = m.withDefaults()
	c := vault.Client()
	var auths struct {
		Data map[string]any `json:"data"`
	}
	if err := c.Do(ctx, "GET", "/v1/sys/auth", nil, &auths); err != nil {
		return err
	}
	if _, ok := auths.Data[m.JWT+"/"]; !ok {
		if err := c.Do(ctx, "POST", "/v1/sys/auth/"+m.JWT, map[string]any{"type": "jwt"}, nil); err != nil {
			return fmt.Errorf("could not enable jwt auth: %w", err)
		}
		cfg := map[string]any{"oidc_discovery_url": strings.TrimRight(s.Hydra.IssuerURL, "/") + "/"}
		if err := c.Do(ctx, "POST", "/v1/auth/"+m.JWT+"/config", cfg, nil); err != nil {
			return fmt.Errorf("could not configure jwt auth: %w", err)
		}
	}
	var mounts struct {
		Data map[string]any `json:"data"`
	}
	if err := c.Do(ctx, "GET", "/v1/sys/mounts", nil, &mounts); err != nil {
		return err
	}
	if _, ok := mounts.Data[m.Nomad+"/"]; !ok && s.Nomad != nil {
		if err := c.Do(ctx, "POST", "/v1/sys/mounts/"+m.Nomad, map[string]any{"type": "nomad"}, nil); err != nil {
			return fmt.Errorf("could not enable nomad secrets: %w", err)
		}
		if err := c.Do(ctx, "POST", "/v1/"+m.Nomad+"/config/access", map[string]any{"address": s.Nomad.Addr, "token": s.Nomad.ManagementToken}, nil); err != nil {
			return err
		}
		if err := s.DenyLeaseRenewalByDefault(ctx, vault, m.Nomad); err != nil {
			return err
		}
	}
	if _, ok := mounts.Data[m.Consul+"/"]; !ok && s.Consul != nil {
		if err := c.Do(ctx, "POST", "/v1/sys/mounts/"+m.Consul, map[string]any{"type": "consul"}, nil); err != nil {
			return fmt.Errorf("could not enable consul secrets: %w", err)
		}
		addr := strings.TrimPrefix(s.Consul.Addr, "http://")
		if err := c.Do(ctx, "POST", "/v1/"+m.Consul+"/config/access", map[string]any{"address": addr, "scheme": "http", "token": s.Consul.ManagementToken}, nil); err != nil {
			return err
		}
		if err := s.DenyLeaseRenewalByDefault(ctx, vault, m.Consul); err != nil {
			return err
		}
	}
	return nil
}

// SetupProfile configures profile p on vault (nil = the stack's Vault),
// Nomad and Consul, enabling the mounts first when needed.
func (s *Stack) SetupProfile(ctx context.Context, vault *Vault, p ProfileSpec) error {
	if vault == nil {
		vault = s.Vault
	}
	m := p.Mounts.withDefaults()
	if err := s.EnsureMounts(ctx, vault, m); err != nil {
		return err
	}
	if p.RolesClaim == "" {
		p.RolesClaim = "cern_roles"
	}
	if p.ClientID == "" {
		p.ClientID = s.Hydra.ClientID
	}
	if p.TTL == "" {
		p.TTL = "1h"
	}
	c := vault.Client()
	// The policy `broker apply` generates for a profile with Nomad and
	// Consul policies, so that the tests prove it is enough (reading the
	// creds, revoking replaced leases). Both creds paths are allowed even
	// without rules, as some tests add a role of their own.
	pol := plan.ProfilePolicyText(policy.Vault{NomadMount: m.Nomad, ConsulMount: m.Consul},
		policy.Profile{Name: p.Name, NomadPolicies: []string{p.Name + "-nomad"}, ConsulPolicies: []string{p.Name + "-consul"}})
	if err := c.Do(ctx, "PUT", "/v1/sys/policies/acl/"+VaultPolicy(p.Name), map[string]any{"policy": pol}, nil); err != nil {
		return fmt.Errorf("vault policy: %w", err)
	}
	role := map[string]any{
		"role_type": "jwt", "bound_audiences": []string{p.ClientID}, "user_claim": "cern_upn",
		"bound_claims": map[string]any{p.RolesClaim: p.Roles}, "token_policies": []string{VaultPolicy(p.Name)},
		"token_ttl": p.TTL, "token_max_ttl": "24h",
	}
	if !strings.HasPrefix(p.RolesClaim, "/") {
		role["groups_claim"] = p.RolesClaim
	}
	if err := c.Do(ctx, "POST", "/v1/auth/"+m.JWT+"/role/"+p.Name, role, nil); err != nil {
		return fmt.Errorf("vault jwt role: %w", err)
	}
	if p.NomadRules != "" && s.Nomad != nil {
		name := p.Name + "-nomad"
		if err := s.Nomad.Client().Do(ctx, "POST", "/v1/acl/policy/"+name, map[string]any{"Name": name, "Rules": p.NomadRules}, nil); err != nil {
			return fmt.Errorf("nomad policy: %w", err)
		}
		if err := c.Do(ctx, "POST", "/v1/"+m.Nomad+"/role/"+p.Name, map[string]any{"policies": name, "type": "client"}, nil); err != nil {
			return fmt.Errorf("vault nomad role: %w", err)
		}
	}
	if p.ConsulRules != "" && s.Consul != nil {
		name := p.Name + "-consul"
		cl := s.Consul.Client()
		// PUT /v1/acl/policy creates; an existing one is updated by ID.
		var existing struct{ ID string }
		if err := cl.Do(ctx, "GET", "/v1/acl/policy/name/"+name, nil, &existing); err == nil && existing.ID != "" {
			if err := cl.Do(ctx, "PUT", "/v1/acl/policy/"+existing.ID, map[string]any{"Name": name, "Rules": p.ConsulRules}, nil); err != nil {
				return fmt.Errorf("consul policy: %w", err)
			}
		} else if err := cl.Do(ctx, "PUT", "/v1/acl/policy", map[string]any{"Name": name, "Rules": p.ConsulRules}, nil); err != nil {
			return fmt.Errorf("consul policy: %w", err)
		}
		if err := c.Do(ctx, "POST", "/v1/"+m.Consul+"/roles/"+p.Name, map[string]any{"consul_policies": []string{name}, "ttl": p.TTL}, nil); err != nil {
			return fmt.Errorf("vault consul role: %w", err)
		}
	}
	return nil
}
