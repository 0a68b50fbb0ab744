package teststack

import (
	"context"
	"fmt"
	"strings"

	"github.com/alisw/alilogin/internal/plan"
)

// EnableJWT mounts Vault's jwt auth method at mount (e.g. "jwt") and points
// it at Hydra's discovery document. Roles are left to the caller (or to
// `broker apply`). It returns the mount accessor.
func (s *Stack) EnableJWT(ctx context.Context, mount string) (string, error) {
	c := s.Vault.Client()
	if err := c.Do(ctx, "POST", "/v1/sys/auth/"+mount, map[string]any{"type": "jwt"}, nil); err != nil {
		return "", fmt.Errorf("could not enable jwt auth at %s: %w", mount, err)
	}
	cfg := map[string]any{"oidc_discovery_url": strings.TrimRight(s.Hydra.IssuerURL, "/") + "/", "default_role": ""}
	if err := c.Do(ctx, "POST", "/v1/auth/"+mount+"/config", cfg, nil); err != nil {
		return "", fmt.Errorf("could not configure jwt auth at %s: %w", mount, err)
	}
	var auths map[string]struct {
		Accessor string `json:"accessor"`
	}
	var wrapped struct {
		Data map[string]struct {
			Accessor string `json:"accessor"`
		} `json:"data"`
	}
	if err := c.Do(ctx, "GET", "/v1/sys/auth", nil, &wrapped); err != nil {
		return "", err
	}
	auths = wrapped.Data
	return auths[mount+"/"].Accessor, nil
}

// EnableNomadEngine mounts Vault's nomad secrets engine at mount, gives
// it Nomad's management token, and denies the body renewal of its leases
// in Vault's default policy (DenyLeaseRenewalByDefault).
func (s *Stack) EnableNomadEngine(ctx context.Context, mount string) error {
	c := s.Vault.Client()
	if err := c.Do(ctx, "POST", "/v1/sys/mounts/"+mount, map[string]any{"type": "nomad"}, nil); err != nil {
		return fmt.Errorf("could not enable nomad secrets at %s: %w", mount, err)
	}
	if err := c.Do(ctx, "POST", "/v1/"+mount+"/config/access", map[string]any{"address": s.Nomad.Addr, "token": s.Nomad.ManagementToken}, nil); err != nil {
		return err
	}
	return s.DenyLeaseRenewalByDefault(ctx, s.Vault, mount)
}

// EnableConsulEngine mounts Vault's consul secrets engine at mount, gives
// it Consul's management token, and denies the body renewal of its leases
// in Vault's default policy (DenyLeaseRenewalByDefault).
func (s *Stack) EnableConsulEngine(ctx context.Context, mount string) error {
	c := s.Vault.Client()
	if err := c.Do(ctx, "POST", "/v1/sys/mounts/"+mount, map[string]any{"type": "consul"}, nil); err != nil {
		return fmt.Errorf("could not enable consul secrets at %s: %w", mount, err)
	}
	addr := strings.TrimPrefix(s.Consul.Addr, "http://")
	if err := c.Do(ctx, "POST", "/v1/"+mount+"/config/access", map[string]any{"address": addr, "scheme": "http", "token": s.Consul.ManagementToken}, nil); err != nil {
		return err
	}
	return s.DenyLeaseRenewalByDefault(ctx, s.Vault, mount)
}

// DenyLeaseRenewalByDefault adds to vault's default policy (nil: the
// stack's Vault) the deny that docs/admin-guide.md has admins add for the
// broker's engines (plan.DefaultPolicyLeaseDeny): no lease_id of mount's
// leases in the body of sys/leases/renew and sys/renew, for any token.
// The tests run the recommended configuration: alilogin and broker serve
// renew in the path form, and a token of the default policy alone can
// shorten no user's lease. A mount already denied is left as it is.
func (s *Stack) DenyLeaseRenewalByDefault(ctx context.Context, vault *Vault, mount string) error {
	if vault == nil {
		vault = s.Vault
	}
	s.defaultMu.Lock()
	defer s.defaultMu.Unlock()
	c := vault.Client()
	var def struct {
		Data struct {
			Policy string `json:"policy"`
		} `json:"data"`
	}
	if err := c.Do(ctx, "GET", "/v1/sys/policies/acl/default", nil, &def); err != nil {
		return fmt.Errorf("could not read Vault's default policy: %w", err)
	}
	if !plan.CheckDefaultPolicy(def.Data.Policy, []string{mount}).Hole() {
		return nil
	}
	text := def.Data.Policy + "\n" + plan.DefaultPolicyLeaseDeny([]string{mount})
	if err := c.Do(ctx, "PUT", "/v1/sys/policies/acl/default", map[string]any{"policy": text}, nil); err != nil {
		return fmt.Errorf("could not write Vault's default policy: %w", err)
	}
	return nil
}
