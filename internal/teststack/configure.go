package teststack

import (
	"context"
	"fmt"
	"strings"
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

// EnableNomadEngine mounts Vault's nomad secrets engine at mount and gives
// it Nomad's management token.
func (s *Stack) EnableNomadEngine(ctx context.Context, mount string) error {
	c := s.Vault.Client()
	if err := c.Do(ctx, "POST", "/v1/sys/mounts/"+mount, map[string]any{"type": "nomad"}, nil); err != nil {
		return fmt.Errorf("could not enable nomad secrets at %s: %w", mount, err)
	}
	return c.Do(ctx, "POST", "/v1/"+mount+"/config/access", map[string]any{"address": s.Nomad.Addr, "token": s.Nomad.ManagementToken}, nil)
}

// EnableConsulEngine mounts Vault's consul secrets engine at mount and gives
// it Consul's management token.
func (s *Stack) EnableConsulEngine(ctx context.Context, mount string) error {
	c := s.Vault.Client()
	if err := c.Do(ctx, "POST", "/v1/sys/mounts/"+mount, map[string]any{"type": "consul"}, nil); err != nil {
		return fmt.Errorf("could not enable consul secrets at %s: %w", mount, err)
	}
	addr := strings.TrimPrefix(s.Consul.Addr, "http://")
	return c.Do(ctx, "POST", "/v1/"+mount+"/config/access", map[string]any{"address": addr, "scheme": "http", "token": s.Consul.ManagementToken}, nil)
}
