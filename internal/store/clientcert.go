package store

import (
	"slices"
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

// AddCertDir records dir in r.CertDirs, once; it reports whether dir
// was not there yet (the record must then be stored before files are
// written in dir).
func (r *Record) AddCertDir(dir string) bool {
	if dir == "" || slices.Contains(r.CertDirs, dir) {
		return false
	}
	r.CertDirs = append(r.CertDirs, dir)
	return true
}

// CertFileDirs is every directory r says holds, or held, certificate
// files of its profile: CertDirs, and the directory of its certificate
// (Cert.Dir: the one directory a record of an earlier alilogin names).
func (r *Record) CertFileDirs() []string {
	out := slices.Clone(r.CertDirs)
	if r.ClientCert != nil && r.ClientCert.Dir != "" && !slices.Contains(out, r.ClientCert.Dir) {
		out = append(out, r.ClientCert.Dir)
	}
	return out
}
