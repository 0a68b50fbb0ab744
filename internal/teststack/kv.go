package teststack

import (
	"context"
	"fmt"
	"strconv"
)

// EnsureKV enables a KV secrets engine of version 1 or 2 at mount on the
// stack's Vault, unless a mount is already there (`vault server -dev`
// has secret/, KV version 2).
func (s *Stack) EnsureKV(ctx context.Context, mount string, version int) error {
	c := s.Vault.Client()
	var mounts struct {
		Data map[string]any `json:"data"`
	}
	if err := c.Do(ctx, "GET", "/v1/sys/mounts", nil, &mounts); err != nil {
		return err
	}
	if _, ok := mounts.Data[mount+"/"]; ok {
		return nil
	}
	body := map[string]any{"type": "kv", "options": map[string]string{"version": strconv.Itoa(version)}}
	if err := c.Do(ctx, "POST", "/v1/sys/mounts/"+mount, body, nil); err != nil {
		return fmt.Errorf("could not enable kv at %s: %w", mount, err)
	}
	return nil
}

// PutKV writes data as the secret at path (without data/) of the KV mount,
// of the given version, with the root token.
func (s *Stack) PutKV(ctx context.Context, mount string, version int, path string, data map[string]any) error {
	c := s.Vault.Client()
	if version == 2 {
		return c.Do(ctx, "POST", "/v1/"+mount+"/data/"+path, map[string]any{"data": data}, nil)
	}
	return c.Do(ctx, "POST", "/v1/"+mount+"/"+path, data, nil)
}

// GrantVaultPolicy writes the Vault policy name with rules and adds it to
// the token policies of the profile's JWT role (on mount jwt), as an
// admin's extra policy for the profile would.
func (s *Stack) GrantVaultPolicy(ctx context.Context, profile, name, rules string) error {
	c := s.Vault.Client()
	if err := c.Do(ctx, "PUT", "/v1/sys/policies/acl/"+name, map[string]any{"policy": rules}, nil); err != nil {
		return fmt.Errorf("vault policy: %w", err)
	}
	var role struct {
		Data struct {
			TokenPolicies []string `json:"token_policies"`
		} `json:"data"`
	}
	if err := c.Do(ctx, "GET", "/v1/auth/jwt/role/"+profile, nil, &role); err != nil {
		return fmt.Errorf("vault jwt role: %w", err)
	}
	pols := append(role.Data.TokenPolicies, name)
	if err := c.Do(ctx, "POST", "/v1/auth/jwt/role/"+profile, map[string]any{"role_type": "jwt", "token_policies": pols}, nil); err != nil {
		return fmt.Errorf("vault jwt role: %w", err)
	}
	return nil
}
