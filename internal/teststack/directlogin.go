package teststack

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// DirectLoginSpec is a profile's direct login at Nomad and Consul (issue
// 24), as the contract between the broker and alilogin names it: a
// Nomad and a Consul JWT auth method alilogin-<profile> trusting the
// stack's Hydra (issuer, audience = the client id), the roles claim
// listed as roles, a binding rule per role, Nomad binding the profile's
// Nomad policy, Consul the role alilogin-direct-<profile> holding its
// Consul policy. Until the broker makes them (broker apply), the tests
// make them with this.
type DirectLoginSpec struct {
	Profile string
	Roles   []string
	TTL     string // the tokens' TTL (MaxTokenTTL), e.g. "1m"
	// Audience is the bound audience; default the stack's client id.
	Audience string
}

// DirectMethod is the name of a profile's auth method at Nomad and Consul.
func DirectMethod(profile string) string { return "alilogin-" + profile }

// SetupDirectLogin makes the auth methods, the Consul role and the
// binding rules of spec. The profile's ACL policies are SetupProfile's
// (<profile>-nomad, <profile>-consul).
func (s *Stack) SetupDirectLogin(ctx context.Context, spec DirectLoginSpec) error {
	aud := spec.Audience
	if aud == "" {
		aud = s.Hydra.ClientID
	}
	jwks := s.Hydra.IssuerURL + ".well-known/jwks.json"
	name := DirectMethod(spec.Profile)
	var selectors []string
	for _, r := range spec.Roles {
		selectors = append(selectors, strconv.Quote(r)+" in list.roles")
	}
	sel := strings.Join(selectors, " or ")

	n := s.Nomad.Client()
	nm := map[string]any{"Name": name, "Type": "JWT", "TokenLocality": "local", "MaxTokenTTL": spec.TTL,
		"Config": map[string]any{"JWKSURL": jwks, "BoundIssuer": []string{s.Hydra.IssuerURL}, "BoundAudiences": []string{aud},
			"SigningAlgs": []string{"RS256"}, "ClaimMappings": map[string]string{"cern_upn": "user"},
			"ListClaimMappings": map[string]string{"cern_roles": "roles"}}}
	if err := n.Do(ctx, "POST", "/v1/acl/auth-method", nm, nil); err != nil {
		return fmt.Errorf("nomad auth method: %w", err)
	}
	if err := n.Do(ctx, "POST", "/v1/acl/binding-rule", map[string]any{"AuthMethod": name, "Selector": sel, "BindType": "policy",
		"BindName": spec.Profile + "-nomad", "Description": "test: " + spec.Profile}, nil); err != nil {
		return fmt.Errorf("nomad binding rule: %w", err)
	}

	c := s.Consul.Client()
	cm := map[string]any{"Name": name, "Type": "jwt", "TokenLocality": "local", "MaxTokenTTL": spec.TTL,
		"Config": map[string]any{"JWKSURL": jwks, "BoundIssuer": s.Hydra.IssuerURL, "BoundAudiences": []string{aud},
			"JWTSupportedAlgs": []string{"RS256"}, "ClaimMappings": map[string]string{"cern_upn": "user"},
			"ListClaimMappings": map[string]string{"cern_roles": "roles"}}}
	// Consul fetches the JWKS when the method is written; Hydra, busy
	// on a shared machine, now and then closes that connection (EOF):
	// tried again, up to three times.
	var err error
	for range 3 {
		if err = c.Do(ctx, "PUT", "/v1/acl/auth-method", cm, nil); err == nil || !strings.Contains(err.Error(), "error checking JWKSURL") {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("consul auth method: %w", err)
	}
	role := "alilogin-direct-" + spec.Profile
	if err := c.Do(ctx, "PUT", "/v1/acl/role", map[string]any{"Name": role, "Policies": []map[string]string{{"Name": spec.Profile + "-consul"}}}, nil); err != nil {
		return fmt.Errorf("consul role: %w", err)
	}
	if err := c.Do(ctx, "PUT", "/v1/acl/binding-rule", map[string]any{"AuthMethod": name, "Selector": sel, "BindType": "role",
		"BindName": role, "Description": "test: " + spec.Profile}, nil); err != nil {
		return fmt.Errorf("consul binding rule: %w", err)
	}
	return nil
}
