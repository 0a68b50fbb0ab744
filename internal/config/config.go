package config

import (
	"github.com/alisw/alilogin/internal/discovery"

	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/store"
)

// Built-in defaults: CERN SSO.
const (
	DefaultIssuer      = "https://auth.cern.ch/auth/realms/cern"
	DefaultRolesClaim  = "cern_roles"
	DefaultUserClaim   = "cern_upn"
	DefaultJWTMount    = "jwt"
	DefaultNomadMount  = "nomad"
	DefaultConsulMount = "consul"
	DefaultTimeout     = 5 * time.Minute
)

// DefaultScopes are requested from the SSO. offline_access asks for a
// refresh token; "offline" is the older spelling some providers use.
var DefaultScopes = []string{"openid", "profile", "email", "offline_access"}

// Server is where one of Vault, Nomad or Consul is and how to reach it.
type Server struct {
	Addr string
	TLS  apiclient.TLS
	// Mount is the auth mount (Vault: the JWT auth method) or the secrets
	// engine mount in Vault (Nomad, Consul).
	Mount string
}

// Server is the configured server of kind k (the zero Server for none).
func (c *Config) Server(k store.Kind) Server {
	switch k {
	case store.Vault:
		return c.Vault
	case store.Nomad:
		return c.Nomad
	case store.Consul:
		return c.Consul
	}
	return Server{}
}

// Profile is one unit of access as the user configuration (or discovery)
// describes it. Only Name is required; Roles lets alilogin choose a profile
// from the user's roles and explain a refusal.
type Profile struct {
	Name  string
	Roles []string // SSO roles allowed to use it (any of)
	// NoNomad / NoConsul: the profile grants no such token.
	NoNomad  bool
	NoConsul bool
	// Agent (use_agent): exec, env and the hook use the agent (gates, not tokens)
	// unless --agent=false (config file only).
	Agent bool
	// AgentReadOnly limits the agent's routes of the profile to each
	// server's read-only allow-list (internal/agent/guard); AgentReadOnlyBy
	// says who set it ("the broker's policies", "the config file PATH").
	// The layers can only add it (agent.go).
	AgentReadOnly   bool
	AgentReadOnlyBy string
	// Attended is the profile's attended tier from the broker's
	// discovery document (alilogin elevate), nil when none; the config
	// file cannot set or remove it (narrowAgent).
	Attended *discovery.Attended
	// Direct is the profile's direct login at Nomad and Consul
	// (direct.go); zero: none.
	Direct Direct
}

// Config is the resolved configuration, or one layer of it (zero = unset).
type Config struct {
	Issuer     string
	ClientID   string
	Scopes     []string
	RolesClaim string // a claim name or a JSON pointer (/resource_access/x/roles)
	UserClaim  string

	Vault  Server
	Nomad  Server
	Consul Server

	Profiles       []Profile
	DefaultProfile string

	// TokenHelperClients are the programs other than the vault and bao
	// CLIs that the vault token helper serves (token_helper_clients:
	// tokenhelper.Identify's patterns). The config file only: never the
	// environment, which the helper's client controls.
	TokenHelperClients []string

	// Broker is the broker's base URL; its discovery document is a layer
	// below the config file (see Sources.Discover).
	Broker string
	// Store is "keyring", "file" or "" (automatic).
	Store string
	// InsecureHTTP allows http:// addresses of hosts that are not loopback
	// (insecure_http = true, ALILOGIN_INSECURE_HTTP=true). A discovery
	// document cannot set it.
	InsecureHTTP bool

	// PKIMount is the Vault PKI secrets engine that signs the login's
	// client certificate at <PKIMount>/sign/<profile> (pki_mount,
	// ALILOGIN_PKI_MOUNT); empty: no certificate.
	PKIMount string

	// File is the config file that was read, if any (not a setting).
	File string
}

// Profile returns the named profile, if configured.
func (c *Config) Profile(name string) (Profile, bool) {
	for _, p := range c.Profiles {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// ValidProfileName reports whether name can be a profile (a Vault role
// name and a store key); the rule is the store's.
func ValidProfileName(name string) bool { return store.ValidProfileName(name) }

// Validate checks a resolved configuration.
func (c *Config) Validate() error {
	var errs []string
	if c.Issuer == "" {
		errs = append(errs, "no SSO issuer")
	}
	if c.ClientID == "" {
		errs = append(errs, "no OIDC client id (set client_id in the config file or ALILOGIN_CLIENT_ID)")
	}
	if c.Vault.Addr == "" {
		errs = append(errs, "no Vault address (set VAULT_ADDR or vault { address = ... } in the config file)")
	}
	for _, p := range c.Profiles {
		if !ValidProfileName(p.Name) {
			errs = append(errs, fmt.Sprintf("invalid profile name %q", p.Name))
		}
	}
	if c.DefaultProfile != "" && !ValidProfileName(c.DefaultProfile) {
		errs = append(errs, fmt.Sprintf("invalid default profile %q", c.DefaultProfile))
	}
	switch c.Store {
	case "", "auto", "keyring", "file":
	default:
		errs = append(errs, fmt.Sprintf("unknown store %q: want keyring or file", c.Store))
	}
	if len(errs) > 0 {
		return fmt.Errorf("incomplete configuration: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Defaults is the bottom layer: CERN SSO and the usual mounts.
func Defaults() Config {
	return Config{
		Issuer:     DefaultIssuer,
		Scopes:     slices.Clone(DefaultScopes),
		RolesClaim: DefaultRolesClaim,
		UserClaim:  DefaultUserClaim,
		Vault:      Server{Mount: DefaultJWTMount},
		Nomad:      Server{Mount: DefaultNomadMount},
		Consul:     Server{Mount: DefaultConsulMount},
	}
}

// overlay sets in dst every field that is set in src.
func overlay(dst *Config, src Config) {
	set := func(d *string, s string) {
		if s != "" {
			*d = s
		}
	}
	set(&dst.Issuer, src.Issuer)
	set(&dst.ClientID, src.ClientID)
	if len(src.Scopes) > 0 {
		dst.Scopes = slices.Clone(src.Scopes)
	}
	if len(src.TokenHelperClients) > 0 {
		dst.TokenHelperClients = slices.Clone(src.TokenHelperClients)
	}
	set(&dst.RolesClaim, src.RolesClaim)
	set(&dst.UserClaim, src.UserClaim)
	for _, p := range []struct{ d, s *Server }{{&dst.Vault, &src.Vault}, {&dst.Nomad, &src.Nomad}, {&dst.Consul, &src.Consul}} {
		set(&p.d.Addr, p.s.Addr)
		set(&p.d.Mount, p.s.Mount)
		set(&p.d.TLS.CACert, p.s.TLS.CACert)
		set(&p.d.TLS.ClientCert, p.s.TLS.ClientCert)
		set(&p.d.TLS.ClientKey, p.s.TLS.ClientKey)
		set(&p.d.TLS.ServerName, p.s.TLS.ServerName)
		if p.s.TLS.InsecureSkipVerify {
			p.d.TLS.InsecureSkipVerify = true
		}
	}
	// Profiles merge by name; a higher layer's profile replaces a lower's.
	for _, p := range src.Profiles {
		i := slices.IndexFunc(dst.Profiles, func(q Profile) bool { return q.Name == p.Name })
		if i >= 0 {
			dst.Profiles[i] = mergeDirect(dst.Profiles[i], narrowAgent(dst.Profiles[i], p)) // agent.go, direct.go
		} else {
			dst.Profiles = append(dst.Profiles, p)
		}
	}
	set(&dst.DefaultProfile, src.DefaultProfile)
	set(&dst.Broker, src.Broker)
	set(&dst.Store, src.Store)
	set(&dst.File, src.File)
	set(&dst.PKIMount, src.PKIMount)
	if src.InsecureHTTP {
		dst.InsecureHTTP = true
	}
}
