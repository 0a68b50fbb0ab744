package policy

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Client certificates (Vault PKI). broker.hcl's vault block names the PKI
// mount (pki_mount); a profile with client_cert_ttl gets a PKI role of its
// name there that signs, for a user logged in with the profile, a client
// certificate in the user's own name (see internal/plan, PKIRoleFields).

// ClientCert is what a profile says about client certificates.
type ClientCert struct {
	// TTL is the certificate's lifetime; 0: the profile gets none.
	TTL time.Duration
}

// Enabled reports whether the profile gets client certificates.
func (c ClientCert) Enabled() bool { return c.TTL > 0 }

// loadPKIMount reads pki_mount of the vault block (empty: no PKI).
func (l *loader) loadPKIMount(a hcl.Attributes) string {
	if a["pki_mount"] == nil {
		return ""
	}
	return l.mount(a, "pki_mount", "")
}

// MinClientCertTTL is the shortest client_cert_ttl: alilogin keeps a
// certificate whose whole life is shorter than --min-ttl for half of it
// (clientcert.Cert.Fresh), so a shorter TTL would make a script's every
// few alilogin exec calls sign (and revoke) another certificate at Vault,
// each stored and each revocation a CRL rebuild.
const MinClientCertTTL = time.Minute

// loadClientCert reads client_cert_ttl of profile p: at least
// MinClientCertTTL, at most
// the profile's max_ttl (a certificate outliving the tokens would outlive
// the login it came with).
func (l *loader) loadClientCert(a hcl.Attributes, p *Profile) {
	at := a["client_cert_ttl"]
	if at == nil {
		return
	}
	p.ClientCert.TTL = l.duration(a, "client_cert_ttl", 0)
	if p.ClientCert.TTL > 0 && p.ClientCert.TTL < MinClientCertTTL {
		l.errorf(at.Expr.Range().Ptr(), "Invalid client_cert_ttl", "client_cert_ttl (%s) is shorter than %s: every few alilogin runs would sign and revoke another certificate at Vault", p.ClientCert.TTL, MinClientCertTTL)
		p.ClientCert.TTL = 0
	}
	if p.ClientCert.TTL > 0 && p.MaxTTL > 0 && p.ClientCert.TTL > p.MaxTTL {
		l.errorf(at.Expr.Range().Ptr(), "Invalid client_cert_ttl", "client_cert_ttl (%s) is longer than the profile's max_ttl (%s)", p.ClientCert.TTL, p.MaxTTL)
	}
	if p.ClientCert.TTL > 0 {
		l.certRefs = append(l.certRefs, at.Expr.Range())
	}
}

// DotFreeClaim reports whether the user claim claim is known to hold no
// dots, so that the certificate's name (the alias name, the claim's
// value) is a single DNS label: CERN's cern_upn (login names), and the
// email claim, whose '@' the role's host-name check refuses outright.
// Vault 1.13's PKI role cannot refuse a dotted name (server.global.nomad)
// by itself: allowed_domains is the alias name as a bare domain, and
// neither its glob rules nor cn_validations count labels.
func DotFreeClaim(claim string) bool {
	switch claim {
	case "cern_upn", "email":
		return true
	}
	return false
}

// finishClientCerts: a profile that asks for certificates needs the PKI
// mount.
func (l *loader) finishClientCerts() {
	if l.cfg.Vault.PKIMount != "" {
		if len(l.certRefs) > 0 && !DotFreeClaim(l.cfg.SSO.UserClaim) {
			l.warnf(&l.certRefs[0], "client certificates name the user by the SSO's %q claim, which may hold dots: "+
				"a user whose claim is server.global.nomad would get a client certificate of that name (Vault's role cannot refuse it); "+
				"keep the CA of these certificates out of Nomad's and Consul's RPC trust (docs/admin-guide.md)", l.cfg.SSO.UserClaim)
		}
		return
	}
	for _, rng := range l.certRefs {
		l.errorf(rng.Ptr(), "Missing pki_mount", "client_cert_ttl needs the PKI secrets engine's mount: set pki_mount in the vault block of broker.hcl")
	}
}
