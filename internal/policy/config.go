package policy

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/config/check"
)

// Config is a loaded, valid policies/ directory.
type Config struct {
	Dir    string
	SSO    SSO
	Vault  Vault
	Nomad  Server
	Consul Server
	// Attended is broker.hcl's attended block (attended.go); nil: none.
	Attended *AttendedSettings
	// DirectLogin is broker.hcl's direct_login block (direct.go).
	DirectLogin DirectLogin

	// Profiles are sorted by name.
	Profiles []Profile
	// Roles give SSO roles extra Vault policies through Vault identity
	// groups, whatever profile the user logs in with. Sorted by role.
	Roles []Role

	// The ACL policy documents of policies/{vault,nomad,consul}/*.hcl,
	// sorted by name.
	VaultPolicies  []Document
	NomadPolicies  []Document
	ConsulPolicies []Document

	// Warnings are problems that do not stop an apply, e.g. a policy file
	// that no profile uses, as file:line:col: message.
	Warnings []string
	// WarningDiagnostics are the Warnings with their positions (severity
	// warning, the message as Summary), for broker validate --json.
	WarningDiagnostics hcl.Diagnostics
}

// SSO describes the identity provider whose ID tokens Vault accepts.
type SSO struct {
	Issuer   string // e.g. https://auth.cern.ch/auth/realms/cern
	ClientID string // the audience of the ID tokens
	// RolesClaim is the claim holding the user's roles: a claim name
	// ("cern_roles") or a JSON pointer ("/resource_access/alilogin/roles").
	RolesClaim string
	// UserClaim names the Vault entity alias (claim name or JSON pointer).
	UserClaim string
}

// Vault says where the broker's objects live in Vault.
type Vault struct {
	Addr        string // optional; VAULT_ADDR wins
	TLS         apiclient.TLS
	JWTMount    string // auth method mount, e.g. "jwt"
	NomadMount  string // nomad secrets engine mount, e.g. "nomad"
	ConsulMount string // consul secrets engine mount, e.g. "consul"
	// ConfigureJWT makes apply manage auth/<JWTMount>/config
	// (oidc_discovery_url and bound_issuer = SSO.Issuer).
	ConfigureJWT bool
	// PKIMount is the PKI secrets engine that signs client certificates
	// (clientcert.go); empty: none.
	PKIMount string
	// OIDCMount is the OIDC auth method of the attended tiers
	// (attended.go, from broker.hcl's attended block); empty: none.
	OIDCMount string
}

// Server is the address and TLS material of Nomad or Consul. The token
// always comes from the environment.
type Server struct {
	Addr string
	TLS  apiclient.TLS
}

// Profile is the unit of access: the SSO roles that may use it and what it
// grants in each system.
type Profile struct {
	Name           string
	Description    string
	Roles          []string // SSO role values (claim values), sorted
	VaultPolicies  []string // names of policies/vault/*.hcl, sorted
	NomadPolicies  []string // names of policies/nomad/*.hcl, sorted
	ConsulPolicies []string // names of policies/consul/*.hcl, sorted
	TTL            time.Duration
	MaxTTL         time.Duration
	ClientCert     ClientCert // clientcert.go
	Agent          Agent      // agent.go
	Attended       Attended   // attended.go
	// DirectLogin is the profile's direct login mode (direct.go):
	// DirectFallback, DirectAlways or DirectOff, defaults resolved.
	DirectLogin string
	File        string // where it is declared, for messages
}

// Role gives the holders of one SSO role extra Vault policies.
type Role struct {
	Name          string // the SSO role value
	VaultPolicies []string
	File          string
}

// Document is one ACL policy document, in its system's own language.
type Document struct {
	Name  string // the file name without .hcl: the policy's name
	File  string // path relative to Config.Dir, e.g. nomad/read-jobs.hcl
	Rules string // the file's content
}

// Profile returns the profile called name.
func (c *Config) Profile(name string) (Profile, bool) {
	i := slices.IndexFunc(c.Profiles, func(p Profile) bool { return p.Name == name })
	if i < 0 {
		return Profile{}, false
	}
	return c.Profiles[i], true
}

// ProfilesFor returns the profiles that a user holding roles may use.
func (c *Config) ProfilesFor(roles []string) []Profile {
	var out []Profile
	for _, p := range c.Profiles {
		if slices.ContainsFunc(p.Roles, func(r string) bool { return slices.Contains(roles, r) }) {
			out = append(out, p)
		}
	}
	return out
}

// UsesNomad reports whether apply writes to Nomad: policies/nomad holds
// a policy. Without one, the broker needs no Nomad address or token.
func (c *Config) UsesNomad() bool { return len(c.NomadPolicies) > 0 }

// UsesConsul reports whether apply writes to Consul: policies/consul
// holds a policy. Without one, the broker needs no Consul address or
// token.
func (c *Config) UsesConsul() bool { return len(c.ConsulPolicies) > 0 }

// GrantsNomad reports whether a profile (or its attended tier) grants
// Nomad tokens, which needs Vault's nomad secrets engine at
// Vault.NomadMount.
func (c *Config) GrantsNomad() bool {
	return slices.ContainsFunc(c.Profiles, func(p Profile) bool {
		return len(p.NomadPolicies) > 0 || p.Attended.Enabled() && p.Attended.GrantsNomad()
	})
}

// GrantsConsul reports whether a profile (or its attended tier) grants
// Consul tokens, which needs Vault's consul secrets engine at Vault.ConsulMount.
func (c *Config) GrantsConsul() bool {
	return slices.ContainsFunc(c.Profiles, func(p Profile) bool {
		return len(p.ConsulPolicies) > 0 || p.Attended.Enabled() && p.Attended.GrantsConsul()
	})
}

// RolePolicies returns the extra Vault policies (identity groups) that
// holders of roles get, sorted and without duplicates.
func (c *Config) RolePolicies(roles []string) []string {
	var out []string
	for _, r := range c.Roles {
		if slices.Contains(roles, r.Name) {
			out = append(out, r.VaultPolicies...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// checkMount checks a mount path of broker.hcl's vault block with the rule
// alilogin applies to its own configuration (check.Mount): the broker puts
// it into Vault API paths, and alilogin gets it through discovery.
func checkMount(m string) error { return check.Mount(m) }

// checkAddress checks an address of broker.hcl (vault, nomad and consul
// blocks) with alilogin's rule (check.Address): plain http:// only to
// loopback, unless the block says insecure_http = true.
func checkAddress(addr string, insecureHTTP bool) error {
	err := check.Address(addr, insecureHTTP)
	if errors.Is(err, check.ErrPlainHTTP) {
		return fmt.Errorf("%w; to send tokens over it anyway, set insecure_http = true in this block", err)
	}
	return err
}
