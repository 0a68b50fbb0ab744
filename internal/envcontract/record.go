package envcontract

import (
	"github.com/alisw/alilogin/internal/config"
	"github.com/alisw/alilogin/internal/store"
)

// FromRecord is the handout of a login: the record's tokens of kinds,
// each with its configured server's address and TLS settings, and the
// earliest expiry of those handed out (Record.EarliestExpiry). A token
// the record lacks, or whose server has no configured address, is left
// out (Bound refuses the latter before).
func FromRecord(cfg *config.Config, rec *store.Record, kinds []store.Kind) Handout {
	h := Handout{Profile: rec.Profile}
	var handed []store.Kind
	for _, k := range kinds {
		t, s := rec.Token(k), cfg.Server(k)
		if t == nil || s.Addr == "" {
			continue
		}
		h.Endpoints = append(h.Endpoints, Endpoint{Kind: k, Token: t.Secret, Addr: s.Addr,
			CACert: s.TLS.CACert, ClientCert: s.TLS.ClientCert, ClientKey: s.TLS.ClientKey, ServerName: s.TLS.ServerName})
		handed = append(handed, k)
	}
	h.Expiry = rec.EarliestExpiry(handed...)
	return h
}
