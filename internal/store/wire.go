package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/alisw/alilogin/internal/secret"
)

// wireRecord is the stored form of a Record. Secrets are plain strings
// here, on purpose and only here: Record's own JSON redacts them.
type wireRecord struct {
	Version      int        `json:"version"`
	Profile      string     `json:"profile"`
	User         string     `json:"user,omitempty"`
	Roles        []string   `json:"roles,omitempty"`
	Issuer       string     `json:"issuer,omitempty"`
	ClientID     string     `json:"client_id,omitempty"`
	Subject      string     `json:"subject,omitempty"`
	VaultAddr    string     `json:"vault_addr,omitempty"`
	NomadAddr    string     `json:"nomad_addr,omitempty"`
	ConsulAddr   string     `json:"consul_addr,omitempty"`
	VaultTrust   string     `json:"vault_trust,omitempty"`
	NomadTrust   string     `json:"nomad_trust,omitempty"`
	ConsulTrust  string     `json:"consul_trust,omitempty"`
	RefreshToken string     `json:"refresh_token,omitempty"`
	IDTokenExp   time.Time  `json:"id_token_exp,omitzero"`
	Vault        *wireToken `json:"vault,omitempty"`
	Nomad        *wireToken `json:"nomad,omitempty"`
	Consul       *wireToken `json:"consul,omitempty"`
	UpdatedAt    time.Time  `json:"updated_at,omitzero"`
	// ClientCert: clientcert.go.
	ClientCert *wireClientCert `json:"client_cert,omitempty"`
	CertDirs   []string        `json:"cert_dirs,omitempty"`
}

type wireToken struct {
	Secret       string    `json:"secret"`
	Accessor     string    `json:"accessor,omitempty"`
	LeaseID      string    `json:"lease_id,omitempty"`
	Renewable    bool      `json:"renewable,omitempty"`
	Policies     []string  `json:"policies,omitempty"`
	IssuedAt     time.Time `json:"issued_at,omitzero"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
	MaxExpiresAt time.Time `json:"max_expires_at,omitzero"`
	TTLSeconds   int64     `json:"ttl_seconds,omitempty"`
	Origin       string    `json:"origin,omitempty"`
}

func toWireToken(t *Token) *wireToken {
	if t == nil {
		return nil
	}
	return &wireToken{
		Secret: t.Secret.Reveal(), Accessor: t.Accessor, LeaseID: t.LeaseID, Renewable: t.Renewable,
		Policies: t.Policies, IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt, MaxExpiresAt: t.MaxExpiresAt,
		TTLSeconds: int64(t.TTL / time.Second), Origin: t.Origin,
	}
}

func (w *wireToken) token() *Token {
	if w == nil {
		return nil
	}
	return &Token{
		Secret: secret.New(w.Secret), Accessor: w.Accessor, LeaseID: w.LeaseID, Renewable: w.Renewable,
		Policies: w.Policies, IssuedAt: w.IssuedAt, ExpiresAt: w.ExpiresAt, MaxExpiresAt: w.MaxExpiresAt,
		TTL: time.Duration(w.TTLSeconds) * time.Second, Origin: w.Origin,
	}
}

// encode serialises r with its secrets, for a backend.
func encode(r *Record) ([]byte, error) {
	w := wireRecord{
		Version: RecordVersion, Profile: r.Profile, User: r.User, Roles: r.Roles, Issuer: r.Issuer, ClientID: r.ClientID, Subject: r.Subject,
		VaultAddr: r.VaultAddr, NomadAddr: r.NomadAddr, ConsulAddr: r.ConsulAddr,
		VaultTrust: r.VaultTrust, NomadTrust: r.NomadTrust, ConsulTrust: r.ConsulTrust,
		RefreshToken: r.RefreshToken.Reveal(), IDTokenExp: r.IDTokenExp,
		Vault: toWireToken(r.Vault), Nomad: toWireToken(r.Nomad), Consul: toWireToken(r.Consul), UpdatedAt: r.UpdatedAt,
		ClientCert: toWireCert(r.ClientCert), CertDirs: r.CertDirs,
	}
	return json.Marshal(w)
}

// decode parses what encode wrote; where names the backend for errors.
func decode(profile, where string, b []byte) (*Record, error) {
	var w wireRecord
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, &CorruptError{Profile: profile, Where: where, Err: err}
	}
	if w.Version != RecordVersion {
		return nil, &CorruptError{Profile: profile, Where: where, Err: fmt.Errorf("unknown record version %d", w.Version)}
	}
	if w.Profile != profile {
		return nil, &CorruptError{Profile: profile, Where: where, Err: fmt.Errorf("record is for profile %q", w.Profile)}
	}
	return &Record{
		Version: w.Version, Profile: w.Profile, User: w.User, Roles: w.Roles, Issuer: w.Issuer, ClientID: w.ClientID, Subject: w.Subject,
		VaultAddr: w.VaultAddr, NomadAddr: w.NomadAddr, ConsulAddr: w.ConsulAddr,
		VaultTrust: w.VaultTrust, NomadTrust: w.NomadTrust, ConsulTrust: w.ConsulTrust,
		RefreshToken: secret.New(w.RefreshToken), IDTokenExp: w.IDTokenExp,
		Vault: w.Vault.token(), Nomad: w.Nomad.token(), Consul: w.Consul.token(), UpdatedAt: w.UpdatedAt,
		ClientCert: w.ClientCert.cert(), CertDirs: w.CertDirs,
	}, nil
}
