package main

import (
	"fmt"
	"io"

	"github.com/alisw/alilogin/internal/plan"
	"github.com/alisw/alilogin/internal/policy"
)

// explainedCert is the client certificate a user of a profile gets (Vault
// PKI, see internal/plan/pki.go).
type explainedCert struct {
	Subject string `json:"subject"`
	Usage   string `json:"usage"`
	Key     string `json:"key"`
	TTL     string `json:"ttl"`
	Sign    string `json:"sign_path"`
	// Limit: the user claim may hold dots, which the role signs as they
	// are (policy.DotFreeClaim); empty when it cannot.
	Limit string `json:"limit,omitempty"`
}

func explainCert(cfg *policy.Config, p policy.Profile) *explainedCert {
	if !p.ClientCert.Enabled() || cfg.Vault.PKIMount == "" {
		return nil
	}
	limit := ""
	if !policy.DotFreeClaim(cfg.SSO.UserClaim) {
		limit = fmt.Sprintf("the %s claim may hold dots: a user named server.global.nomad would get a certificate of that name; keep this CA out of Nomad's and Consul's RPC trust", cfg.SSO.UserClaim)
	}
	return &explainedCert{
		Limit:   limit,
		Subject: fmt.Sprintf("CN=<the user's %s claim>, nothing else", cfg.SSO.UserClaim),
		Usage:   "TLS client authentication only",
		Key:     "EC P-256, made on the user's machine",
		TTL:     p.ClientCert.TTL.String(),
		Sign:    plan.PKISignPath(cfg.Vault, p.Name),
	}
}

func printCert(w io.Writer, c *explainedCert) {
	if c == nil {
		return
	}
	fmt.Fprintf(w, "  Client certificate: %s; %s; %s; valid %s; signed at %s\n", c.Subject, c.Usage, c.Key, c.TTL, c.Sign)
	if c.Limit != "" {
		fmt.Fprintf(w, "    warning: %s\n", c.Limit)
	}
}
