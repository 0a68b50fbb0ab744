package store

import (
	"fmt"
	"slices"
	"time"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/secret"
)

// Record is everything alilogin keeps for one profile: one record per
// profile, in the OS keyring or in the file store. It is written by
// `alilogin login` and by the renewal chain, read by token/env/exec/status,
// and deleted by logout.
type Record struct {
	Version int    `json:"version"` // RecordVersion
	Profile string `json:"profile"`

	// Identity, for status.
	User  string   `json:"user"`  // the user claim (cern_upn)
	Roles []string `json:"roles"` // the roles claim

	// The login's binding: the issuer (the ID token's iss), the OIDC
	// client id and the subject (sub) the login was made with. The
	// refresh token goes only to this issuer's token endpoint, with this
	// client id, and a refreshed ID token must name the same issuer and
	// subject (internal/renew). Records written before the client id was
	// kept have none: their refresh token is not used (login needed).
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id,omitempty"`
	Subject  string `json:"subject"`

	// Where the tokens belong: the canonical address (check.Canonical:
	// scheme://host:port, lower case, without a trailing '/') of the
	// Vault that issued the Vault token, and of the Nomad and Consul
	// servers configured when the login was made (empty: none). The Vault
	// token (renewals, leases, re-mints, revocation) and a refreshed ID
	// token go only to VaultAddr; token, env and exec refuse the login
	// when the configuration names other servers (internal/renew). A
	// record written before these were kept has no VaultAddr: its Vault
	// token is not sent anywhere (login needed; logout deletes it locally).
	VaultAddr  string `json:"vault_addr,omitempty"`
	NomadAddr  string `json:"nomad_addr,omitempty"`
	ConsulAddr string `json:"consul_addr,omitempty"`
	// How each server's certificate was checked at login
	// (apiclient.Trust: the SHA-256 of the CA file, or the system's
	// roots, and the TLS server name): token, env, exec and the token
	// helper refuse the login when the configuration or the client checks
	// it another way. Empty in a record of an earlier alilogin, which is
	// accepted as before.
	VaultTrust  string `json:"vault_trust,omitempty"`
	NomadTrust  string `json:"nomad_trust,omitempty"`
	ConsulTrust string `json:"consul_trust,omitempty"`

	// OIDC session.
	RefreshToken secret.String `json:"-"`
	IDTokenExp   time.Time     `json:"id_token_exp"`

	Vault  *Token `json:"vault,omitempty"`
	Nomad  *Token `json:"nomad,omitempty"`
	Consul *Token `json:"consul,omitempty"`

	UpdatedAt time.Time `json:"updated_at"`

	// ClientCert is the login's client certificate from Vault PKI, with
	// its key (a secret); nil: none (clientcert.go).
	ClientCert *clientcert.Cert `json:"client_cert,omitempty"`
	// CertDirs are the directories where an alilogin wrote this
	// profile's certificate files (clientcert.Write), in whatever
	// environment it ran: each environment has its own directory
	// (another $XDG_RUNTIME_DIR, or none and another HOME or
	// XDG_STATE_HOME: a desktop, ssh, cron), so logout, from any of them,
	// removes the files in every one (CertFileDirs). A directory is
	// added under the profile's lock by whoever writes files there (env
	// and exec store it before they write), and carried to the record
	// that replaces this one (internal/session/clientcert.go).
	CertDirs []string `json:"cert_dirs,omitempty"`
}

// RecordVersion is the format version written by this build.
const RecordVersion = 1

// Token is one credential with what is needed to renew or revoke it.
type Token struct {
	Secret    secret.String `json:"-"`
	Accessor  string        `json:"accessor,omitempty"` // Vault token accessor, Nomad/Consul accessor id
	LeaseID   string        `json:"lease_id,omitempty"` // Vault lease of a Nomad/Consul token
	Renewable bool          `json:"renewable"`
	Policies  []string      `json:"policies,omitempty"`
	IssuedAt  time.Time     `json:"issued_at"`
	ExpiresAt time.Time     `json:"expires_at"`
	// MaxExpiresAt is when the lease or token can no longer be renewed
	// (zero when unknown).
	MaxExpiresAt time.Time `json:"max_expires_at,omitzero"`
	// TTL is the validity the server granted at the last issue or
	// renewal (its lease duration; zero when unknown): the most a
	// renewal can give, which caps --min-ttl.
	TTL time.Duration `json:"-"`
	// Origin is where a Nomad or Consul token came from: FromVault (also
	// empty, in a record of an earlier alilogin), minted at Vault's
	// secrets engine under a lease, or FromDirect, the server's own JWT
	// login (/v1/acl/login) with the SSO's ID token: no lease, a
	// server-side expiry (ExpiresAt), renewed by a new login.
	Origin string `json:"origin,omitempty"`
}

// The origins of a token (Token.Origin).
const (
	FromVault  = "vault"
	FromDirect = "direct"
)

// Direct reports whether t came from a direct JWT login at its server.
func (t *Token) Direct() bool { return t != nil && t.Origin == FromDirect }

// From is where t came from, for status: "vault" or "direct".
func (t *Token) From() string {
	if t.Direct() {
		return FromDirect
	}
	return FromVault
}

// ValidFor reports whether the token exists and is valid for longer than
// d at now.
func (t *Token) ValidFor(now time.Time, d time.Duration) bool {
	return t != nil && !t.Secret.Empty() && t.ExpiresAt.Sub(now) > d
}

// Clone is a copy of r that shares nothing that the renewal chain
// changes: its tokens (with their policies), roles and certificate
// directories. The certificate itself is replaced, never changed.
func (r *Record) Clone() *Record {
	cp := *r
	cp.Roles = slices.Clone(r.Roles)
	cp.Vault = r.Vault.Clone()
	cp.Nomad = r.Nomad.Clone()
	cp.Consul = r.Consul.Clone()
	cp.CertDirs = slices.Clone(r.CertDirs)
	return &cp
}

// Clone is a copy of t with its own policies; nil for nil.
func (t *Token) Clone() *Token {
	if t == nil {
		return nil
	}
	cp := *t
	cp.Policies = slices.Clone(t.Policies)
	return &cp
}

// Kind names one of a record's tokens: the Vault token, and the Nomad and
// Consul tokens minted with it at Vault's secrets engines. Its value is
// the word `--for` takes.
type Kind string

// The kinds of token a record holds.
const (
	Vault  Kind = "vault"
	Nomad  Kind = "nomad"
	Consul Kind = "consul"
)

// Kinds is every kind, in display order.
var Kinds = []Kind{Vault, Nomad, Consul}

// ParseKind checks a --for value.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown token kind %q: want vault, nomad or consul", s)
}

// Server is the server a token of kind k goes to, as the HTTP client
// names it (its token header; apiclient.For).
func (k Kind) Server() apiclient.Server {
	switch k {
	case Nomad:
		return apiclient.Nomad
	case Consul:
		return apiclient.Consul
	}
	return apiclient.Vault
}

// Title is the name of the kind's server in messages: "Vault", "Nomad",
// "Consul".
func (k Kind) Title() string {
	if !slices.Contains(Kinds, k) {
		return string(k)
	}
	return k.Server().String()
}

// Token is the record's token of kind k (nil when absent, or r nil).
func (r *Record) Token(k Kind) *Token {
	if r == nil {
		return nil
	}
	switch k {
	case Vault:
		return r.Vault
	case Nomad:
		return r.Nomad
	case Consul:
		return r.Consul
	}
	return nil
}

// SetToken replaces the record's token of kind k.
func (r *Record) SetToken(k Kind, t *Token) {
	switch k {
	case Vault:
		r.Vault = t
	case Nomad:
		r.Nomad = t
	case Consul:
		r.Consul = t
	}
}

// Kinds are the kinds the record holds: Vault, unless the record holds
// only tokens of a direct login (made while Vault could not issue
// tokens), and Nomad and Consul when it has their token.
func (r *Record) Kinds() []Kind {
	var out []Kind
	if r.Vault != nil || (r.Nomad == nil && r.Consul == nil) {
		out = append(out, Vault)
	}
	if r.Nomad != nil {
		out = append(out, Nomad)
	}
	if r.Consul != nil {
		out = append(out, Consul)
	}
	return out
}

// EarliestExpiry is when the first of the record's tokens of kinds
// expires (zero when it holds none of them).
func (r *Record) EarliestExpiry(kinds ...Kind) time.Time {
	var e time.Time
	for _, k := range kinds {
		if t := r.Token(k); t != nil && (e.IsZero() || t.ExpiresAt.Before(e)) {
			e = t.ExpiresAt
		}
	}
	return e
}
