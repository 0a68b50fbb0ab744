package envcontract

import (
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/store"
)

// FromRecord is the handout of a login: the record's tokens of kinds,
// each with its configured server's address and TLS settings, and the
// earliest expiry of those handed out. A token the record lacks, or
// whose server has no configured address, is left out (Bound refuses the
// latter before).
func FromRecord(cfg *config.Config, rec *store.Record, kinds []Server) Handout {
	h := Handout{Profile: rec.Profile}
	for _, k := range kinds {
		t, s := tokenOf(rec, k), serverOf(cfg, k)
		if t == nil || s.Addr == "" {
			continue
		}
		h.Endpoints = append(h.Endpoints, Endpoint{Server: k, Token: t.Secret, Addr: s.Addr,
			CACert: s.TLS.CACert, ClientCert: s.TLS.ClientCert, ClientKey: s.TLS.ClientKey, ServerName: s.TLS.ServerName})
		if h.Expiry.IsZero() || t.ExpiresAt.Before(h.Expiry) {
			h.Expiry = t.ExpiresAt
		}
	}
	return h
}

// tokenOf is the record's token for server k.
func tokenOf(rec *store.Record, k Server) *store.Token {
	switch k {
	case Vault:
		return rec.Vault
	case Nomad:
		return rec.Nomad
	case Consul:
		return rec.Consul
	}
	return nil
}

// serverOf is the configuration of server k.
func serverOf(cfg *config.Config, k Server) config.Server {
	switch k {
	case Vault:
		return cfg.Vault
	case Nomad:
		return cfg.Nomad
	case Consul:
		return cfg.Consul
	}
	return config.Server{}
}
