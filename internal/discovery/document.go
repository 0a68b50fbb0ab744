package discovery

import (
	"errors"
	"fmt"
	"strings"
)

// Version is the document version this code writes and understands.
const Version = 1

// Path is where a broker serves the document.
const Path = "/v1/discovery"

// Document is the discovery document.
type Document struct {
	Version  int       `json:"version"`
	SSO      SSO       `json:"sso"`
	Vault    Vault     `json:"vault"`
	Nomad    Server    `json:"nomad"`
	Consul   Server    `json:"consul"`
	Profiles []Profile `json:"profiles"`
}

// SSO is the OpenID Connect provider and the claims alilogin reads.
type SSO struct {
	Issuer     string `json:"issuer"`
	ClientID   string `json:"client_id"`
	RolesClaim string `json:"roles_claim"` // claim name or JSON pointer
	UserClaim  string `json:"user_claim"`
}

// Vault is where Vault is and the mounts of the JWT auth method and the
// nomad and consul secrets engines.
type Vault struct {
	Addr        string `json:"addr"`
	JWTMount    string `json:"jwt_mount"`
	NomadMount  string `json:"nomad_mount"`
	ConsulMount string `json:"consul_mount"`
	// PKIMount signs the users' client certificates; empty: none.
	PKIMount string `json:"pki_mount,omitempty"`
}

// Server is the public address of Nomad or Consul.
type Server struct {
	Addr string `json:"addr,omitempty"`
}

// Profile is one unit of access.
type Profile struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Roles       []string `json:"roles"`
	TTL         string   `json:"ttl,omitempty"`     // Go duration, e.g. "1h0m0s"
	MaxTTL      string   `json:"max_ttl,omitempty"` // Go duration
	// Nomad and Consul tell whether the profile grants a token there.
	Nomad  bool `json:"nomad"`
	Consul bool `json:"consul"`
	// Agent is what the admin says of the profile's agent routes
	// (policies/: agent { read_only = true }). Absent: no limit.
	Agent Agent `json:"agent,omitzero"`
	// Direct is the profile's direct login at Nomad and Consul (their
	// JWT auth methods, which the broker makes); nil: none.
	Direct *Direct `json:"direct,omitempty"`
	// Attended is the profile's attended tier (policies/: attended {...});
	// nil: none. alilogin elevate uses these names as they are and never
	// builds them itself.
	Attended *Attended `json:"attended,omitempty"`
}

// Attended is what alilogin elevate needs of a profile's attended tier.
type Attended struct {
	OIDCMount string `json:"oidc_mount"` // Vault auth mount of type oidc
	Role      string `json:"role"`       // the OIDC role on it
	// NomadRole and ConsulRole are the creds paths' role names under the
	// nomad and consul mounts ("" when the tier gets no such token).
	NomadRole  string `json:"nomad_role,omitempty"`
	ConsulRole string `json:"consul_role,omitempty"`
	Window     string `json:"window"`         // Go duration: the longest window
	Uses       int    `json:"uses,omitempty"` // write requests per window; 0: no budget
	MaxAge     string `json:"max_age"`        // Go duration: how recent the sign-in must be
	// RedirectPath is the loopback callback path the OIDC role allows:
	// http://127.0.0.1:<any port><RedirectPath>.
	RedirectPath string `json:"redirect_path"`
}

// Direct is how alilogin logs in to Nomad and Consul without Vault: with
// the SSO's ID token at the auth methods the broker named (alilogin never
// builds these names itself).
type Direct struct {
	// Mode is "fallback" (when Vault cannot issue the tokens) or
	// "always".
	Mode string `json:"mode"`
	// NomadAuthMethod and ConsulAuthMethod are the auth methods' names;
	// empty: none at that server.
	NomadAuthMethod  string `json:"nomad_auth_method,omitempty"`
	ConsulAuthMethod string `json:"consul_auth_method,omitempty"`
}

// Agent is a profile's setting for the alilogin agent's routes.
type Agent struct {
	// ReadOnly limits the agent's routes to each server's read-only
	// allow-list (internal/agent/guard); a user can add it, never remove it.
	ReadOnly bool `json:"read_only,omitempty"`
}

// Validate checks what a client needs to use the document.
func (d *Document) Validate() error {
	var errs []string
	if d.Version < 1 {
		errs = append(errs, fmt.Sprintf("unknown version %d", d.Version))
	}
	if d.SSO.Issuer == "" {
		errs = append(errs, "no SSO issuer")
	}
	if d.SSO.ClientID == "" {
		errs = append(errs, "no client id")
	}
	if d.Vault.Addr == "" {
		errs = append(errs, "no Vault address")
	}
	seen := map[string]bool{}
	for _, p := range d.Profiles {
		if p.Name == "" {
			errs = append(errs, "a profile without a name")
		}
		if seen[p.Name] {
			errs = append(errs, fmt.Sprintf("duplicate profile %q", p.Name))
		}
		seen[p.Name] = true
	}
	if len(errs) > 0 {
		return errors.New("invalid discovery document: " + strings.Join(errs, "; "))
	}
	return nil
}

// Allowed returns the profiles that a user with roles may use, in document
// order.
func (d *Document) Allowed(roles []string) []Profile {
	has := make(map[string]bool, len(roles))
	for _, r := range roles {
		has[r] = true
	}
	var out []Profile
	for _, p := range d.Profiles {
		for _, r := range p.Roles {
			if has[r] {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// Names are the names of the profiles, in document order.
func (d *Document) Names() []string {
	var out []string
	for _, p := range d.Profiles {
		out = append(out, p.Name)
	}
	return out
}
