package teststack

import (
	"context"
	"slices"
)

// VaultTokens counts the live Vault tokens that carry policy: the logins
// that have not expired (one that expires while it is counted is not).
func (s *Stack) VaultTokens(ctx context.Context, policy string) (int, error) {
	v := s.Vault.Client()
	var l struct {
		Data struct{ Keys []string } `json:"data"`
	}
	if err := v.Do(ctx, "LIST", "/v1/auth/token/accessors", nil, &l); err != nil {
		return 0, err
	}
	n := 0
	for _, a := range l.Data.Keys {
		var out struct {
			Data struct {
				Policies []string `json:"policies"`
			} `json:"data"`
		}
		if v.Do(ctx, "POST", "/v1/auth/token/lookup-accessor", map[string]string{"accessor": a}, &out) == nil &&
			slices.Contains(out.Data.Policies, policy) {
			n++
		}
	}
	return n, nil
}

// NomadTokens counts the Nomad ACL tokens that carry policy.
func (s *Stack) NomadTokens(ctx context.Context, policy string) (int, error) {
	var l []struct{ Policies []string }
	if err := s.Nomad.Client().Do(ctx, "GET", "/v1/acl/tokens", nil, &l); err != nil {
		return 0, err
	}
	n := 0
	for _, tk := range l {
		if slices.Contains(tk.Policies, policy) {
			n++
		}
	}
	return n, nil
}

// ConsulTokens counts the Consul ACL tokens that carry policy.
func (s *Stack) ConsulTokens(ctx context.Context, policy string) (int, error) {
	var l []struct{ Policies []struct{ Name string } }
	if err := s.Consul.Client().Do(ctx, "GET", "/v1/acl/tokens", nil, &l); err != nil {
		return 0, err
	}
	n := 0
	for _, tk := range l {
		if slices.ContainsFunc(tk.Policies, func(p struct{ Name string }) bool { return p.Name == policy }) {
			n++
		}
	}
	return n, nil
}
