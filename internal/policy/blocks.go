package policy

// blocks.go: the meaning of the blocks of the top-level files (sso, vault,
// nomad, consul, profile, role).

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

var topSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "sso"}, {Type: "vault"}, {Type: "nomad"}, {Type: "consul"}, {Type: "attended"}, {Type: "direct_login"},
	{Type: "profile", LabelNames: []string{"name"}},
	{Type: "role", LabelNames: []string{"sso_role"}},
}}

func (l *loader) loadTop(path string) {
	body, _ := l.parse(path)
	if body == nil {
		return
	}
	content, diags := body.Content(topSchema)
	l.diags = append(l.diags, diags...)
	for _, b := range content.Blocks {
		switch b.Type {
		case "sso", "vault", "nomad", "consul", "attended", "direct_login":
			if prev := l.seen[b.Type]; prev != nil {
				l.errorf(b.DefRange.Ptr(), "Duplicate "+b.Type+" block", "the %s block is already declared at %s", b.Type, rangeString(prev))
				continue
			}
			l.seen[b.Type] = b.DefRange.Ptr()
			switch b.Type {
			case "sso":
				l.loadSSO(b)
			case "vault":
				l.loadVault(b)
			case "nomad":
				l.cfg.Nomad = l.loadServer(b)
			case "consul":
				l.cfg.Consul = l.loadServer(b)
			case "attended":
				l.loadAttendedSettings(b) // attended.go
			case "direct_login":
				l.loadDirectLogin(b) // direct.go
			}
		case "profile":
			l.loadProfileAndAgent(b) // agent.go
		case "role":
			l.loadRole(b)
		}
	}
}

func rangeString(r *hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

func (l *loader) loadSSO(b *hcl.Block) {
	a := l.attrs(b, []hcl.AttributeSchema{
		{Name: "issuer", Required: true}, {Name: "client_id", Required: true},
		{Name: "roles_claim"}, {Name: "user_claim"},
	})
	s := &l.cfg.SSO
	s.Issuer = l.str(a, "issuer", "")
	s.ClientID = l.str(a, "client_id", "")
	s.RolesClaim = l.str(a, "roles_claim", "cern_roles")
	s.UserClaim = l.str(a, "user_claim", "cern_upn")
	if s.Issuer != "" && !strings.HasPrefix(s.Issuer, "https://") && !strings.HasPrefix(s.Issuer, "http://") {
		l.errorf(a["issuer"].Expr.Range().Ptr(), "Invalid issuer", "want an http(s) URL, got %q", s.Issuer)
	}
	for _, k := range []string{"roles_claim", "user_claim"} {
		v := s.RolesClaim
		if k == "user_claim" {
			v = s.UserClaim
		}
		if err := CheckClaim(v); err != nil {
			rng := b.DefRange.Ptr()
			if at := a[k]; at != nil {
				rng = at.Expr.Range().Ptr()
			}
			l.errorf(rng, "Invalid "+k, "%v", err)
		}
	}
}

func (l *loader) loadVault(b *hcl.Block) {
	a := l.attrs(b, []hcl.AttributeSchema{
		{Name: "address"}, {Name: "ca_cert"}, {Name: "client_cert"}, {Name: "client_key"},
		{Name: "jwt_mount"}, {Name: "nomad_mount"}, {Name: "consul_mount"}, {Name: "configure_jwt_auth"}, {Name: "insecure_http"},
		{Name: "pki_mount"},
	})
	v := &l.cfg.Vault
	v.Addr = l.addr(a, "address", false)
	v.TLS.CACert, v.TLS.ClientCert, v.TLS.ClientKey = l.str(a, "ca_cert", ""), l.str(a, "client_cert", ""), l.str(a, "client_key", "")
	v.JWTMount = l.mount(a, "jwt_mount", "jwt")
	v.NomadMount = l.mount(a, "nomad_mount", "nomad")
	v.ConsulMount = l.mount(a, "consul_mount", "consul")
	v.ConfigureJWT = l.boolean(a, "configure_jwt_auth")
	v.PKIMount = l.loadPKIMount(a) // clientcert.go
}

func (l *loader) loadServer(b *hcl.Block) Server {
	a := l.attrs(b, []hcl.AttributeSchema{{Name: "address"}, {Name: "ca_cert"}, {Name: "client_cert"}, {Name: "client_key"}, {Name: "insecure_http"}})
	var s Server
	s.Addr = l.addr(a, "address", b.Type == "consul")
	s.TLS.CACert, s.TLS.ClientCert, s.TLS.ClientKey = l.str(a, "ca_cert", ""), l.str(a, "client_cert", ""), l.str(a, "client_key", "")
	return s
}

func (l *loader) loadProfile(b *hcl.Block) {
	name := b.Labels[0]
	nameRng := b.LabelRanges[0].Ptr()
	if err := CheckName(name); err != nil {
		l.errorf(nameRng, "Invalid profile name", "%v", err)
	} else if why, ok := ReservedProfile(name); ok {
		l.errorf(nameRng, "Reserved profile name", "the profile name %q is reserved: %s; rename the profile", name, why)
	}
	dup := l.profiles[name] != nil
	if dup {
		l.errorf(nameRng, "Duplicate profile", "profile %q is already declared at %s", name, rangeString(l.profiles[name]))
	} else {
		l.profiles[name] = nameRng
	}
	a := l.attrs(b, []hcl.AttributeSchema{
		{Name: "description"}, {Name: "roles", Required: true},
		{Name: "vault_policies"}, {Name: "nomad_policies"}, {Name: "consul_policies"},
		{Name: "ttl"}, {Name: "max_ttl"},
		{Name: "client_cert_ttl"},
		{Name: "direct_login"},
	})
	p := Profile{Name: name, Description: l.str(a, "description", ""), File: b.DefRange.Filename}
	p.Roles = l.roleList(a, "roles")
	if at := a["roles"]; at != nil && emptyList(at) {
		l.errorf(at.Expr.Range().Ptr(), "Empty roles", "profile %q lists no SSO role, so nobody could use it", name)
	}
	p.VaultPolicies = l.policyList(a, "vault_policies", "vault")
	p.NomadPolicies = l.policyList(a, "nomad_policies", "nomad")
	p.ConsulPolicies = l.policyList(a, "consul_policies", "consul")
	p.TTL = l.duration(a, "ttl", DefaultTTL)
	p.MaxTTL = l.duration(a, "max_ttl", DefaultMaxTTL)
	if p.TTL > 0 && p.MaxTTL > 0 && p.MaxTTL < p.TTL {
		rng := b.DefRange.Ptr()
		if at := a["max_ttl"]; at != nil {
			rng = at.Expr.Range().Ptr()
		} else if at := a["ttl"]; at != nil {
			rng = at.Expr.Range().Ptr()
		}
		l.errorf(rng, "Invalid max_ttl", "max_ttl (%s) is shorter than ttl (%s)", p.MaxTTL, p.TTL)
	}
	l.loadClientCert(a, &p)    // clientcert.go
	l.loadProfileDirect(a, &p) // direct.go
	if !dup {
		for n, at := range a {
			l.profileAttrs[name+"\x00"+n] = at.Expr.Range()
		}
		l.cfg.Profiles = append(l.cfg.Profiles, p)
	}
}

func (l *loader) loadRole(b *hcl.Block) {
	name := b.Labels[0]
	nameRng := b.LabelRanges[0].Ptr()
	if err := CheckRole(name); err != nil {
		l.errorf(nameRng, "Invalid role", "%v", err)
	}
	if prev := l.roles[strings.ToLower(name)]; prev != nil {
		l.errorf(nameRng, "Duplicate role", "role %q is already declared at %s (role blocks are compared without case)", name, rangeString(prev))
		return
	}
	l.roles[strings.ToLower(name)] = nameRng
	a := l.attrs(b, []hcl.AttributeSchema{{Name: "vault_policies", Required: true}})
	r := Role{Name: name, File: b.DefRange.Filename, VaultPolicies: l.policyList(a, "vault_policies", "vault")}
	if at := a["vault_policies"]; at != nil && emptyList(at) {
		l.errorf(at.Expr.Range().Ptr(), "Empty vault_policies", "role %q gives no Vault policy; remove the block", name)
	}
	l.cfg.Roles = append(l.cfg.Roles, r)
}
