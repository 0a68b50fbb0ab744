package store

import (
	"time"

	"github.com/alisw/alilogin/internal/clientcert"
	"github.com/alisw/alilogin/internal/secret"
)

// The client certificate of a login (internal/clientcert) is kept with the
// record, its key a secret like the tokens.

type wireClientCert struct {
	Cert     string    `json:"cert"`
	Chain    string    `json:"chain,omitempty"`
	Key      string    `json:"key"`
	Mount    string    `json:"mount,omitempty"`
	Serial   string    `json:"serial,omitempty"`
	Subject  string    `json:"subject,omitempty"`
	NotAfter time.Time `json:"not_after,omitzero"`
	// IssuedAt: absent in records made before it was kept.
	IssuedAt time.Time `json:"issued_at,omitzero"`
	Dir      string    `json:"dir,omitempty"`
}

func toWireCert(c *clientcert.Cert) *wireClientCert {
	if c == nil {
		return nil
	}
	return &wireClientCert{Cert: c.CertPEM, Chain: c.ChainPEM, Key: c.Key.Reveal(), Mount: c.Mount, Serial: c.Serial, Subject: c.Subject, NotAfter: c.NotAfter, IssuedAt: c.IssuedAt, Dir: c.Dir}
}

func (w *wireClientCert) cert() *clientcert.Cert {
	if w == nil {
		return nil
	}
	return &clientcert.Cert{CertPEM: w.Cert, ChainPEM: w.Chain, Key: secret.New(w.Key), Mount: w.Mount, Serial: w.Serial, Subject: w.Subject, NotAfter: w.NotAfter, IssuedAt: w.IssuedAt, Dir: w.Dir}
}
