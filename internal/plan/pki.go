package plan

import (
	"fmt"
	"strings"

	"github.com/alisw/alilogin/internal/policy"
)

// PKIRole (its line in kindRules, object.go) is the Vault PKI role P of
// a profile with client certificates: it signs, at <pki mount>/sign/P, a
// CSR whose name is the caller's own JWT alias name, for client use only.
// Like the other roles it has no room for a marker: the profile policy's
// roles= record (pki@<mount>) says it is the broker's (Owner.Role,
// ownership.go).

// JWTAccessor stands for the accessor of the JWT auth mount in the
// desired fields of a PKI role: the accessor is known only to the server
// (apply puts it in on writes and takes it out on reads, so that a role
// bound to another mount's aliases is drift).
const JWTAccessor = "<jwt auth accessor>"

// AliasTemplate is the identity template of the name of the caller's
// alias on the JWT auth mount with accessor acc.
func AliasTemplate(acc string) string { return "{{identity.entity.aliases." + acc + ".name}}" }

// PKIRoleFieldNames are the fields of a PKI role the broker writes and
// reads back (RoleFieldNames): every setting that widens what the role
// signs, written explicitly.
var PKIRoleFieldNames = []string{
	"allow_any_name", "allow_bare_domains", "allow_glob_domains", "allow_ip_sans", "allow_localhost",
	"allow_subdomains", "allow_wildcard_certificates", "allowed_domains", "allowed_domains_template",
	"allowed_other_sans", "allowed_uri_sans", "allowed_uri_sans_template", "allowed_user_ids",
	"basic_constraints_valid_for_non_ca", "client_flag", "cn_validations", "code_signing_flag",
	"email_protection_flag", "enforce_hostnames", "ext_key_usage", "ext_key_usage_oids", "generate_lease",
	"key_bits", "key_type", "key_usage", "max_ttl", "no_store", "policy_identifiers", "require_cn",
	"server_flag", "ttl", "use_csr_common_name", "use_csr_sans",
}

// PKIRoleFields are the settings of the PKI role of profile p: the
// certificate's only name is the CSR's common name, which must be the
// caller's alias name on the JWT mount (allowed_domains templated, bare,
// no subdomains, globs, wildcards, IPs, localhost, URIs or other names);
// client use only; an EC P-256 key; the profile's certificate TTL as both
// TTL and max TTL; stored (no_store false), so that it can be revoked and
// shows in <mount>/certs/revoked.
func PKIRoleFields(p policy.Profile) Fields {
	ttl := seconds(p.ClientCert.TTL)
	return Fields{
		"allowed_domains":          []string{AliasTemplate(JWTAccessor)},
		"allowed_domains_template": true,
		"allow_bare_domains":       true,
		"enforce_hostnames":        false,
		// The name is checked against allowed_domains; its shape (an
		// e-mail address or a login name) is the SSO's.
		"cn_validations":                     []string{"disabled"},
		"client_flag":                        true,
		"server_flag":                        false,
		"code_signing_flag":                  false,
		"email_protection_flag":              false,
		"allow_any_name":                     false,
		"allow_glob_domains":                 false,
		"allow_subdomains":                   false,
		"allow_wildcard_certificates":        false,
		"allow_ip_sans":                      false,
		"allow_localhost":                    false,
		"allowed_uri_sans":                   []string{},
		"allowed_uri_sans_template":          false,
		"allowed_other_sans":                 []string{},
		"allowed_user_ids":                   []string{},
		"basic_constraints_valid_for_non_ca": false,
		"ext_key_usage":                      []string{},
		"ext_key_usage_oids":                 []string{},
		"policy_identifiers":                 []string{},
		"key_usage":                          []string{"DigitalSignature"},
		"key_type":                           "ec",
		"key_bits":                           int64(256),
		"ttl":                                ttl,
		"max_ttl":                            ttl,
		"use_csr_common_name":                true,
		"use_csr_sans":                       false,
		"require_cn":                         true,
		"no_store":                           false,
		"generate_lease":                     false,
	}
}

// PKISignPath is where a user of profile p sends a CSR.
func PKISignPath(v policy.Vault, p string) string { return v.PKIMount + "/sign/" + p }

// PKIRevokePath is where the holder of a certificate's key revokes it.
func PKIRevokePath(v policy.Vault) string { return v.PKIMount + "/revoke-with-key" }

// pkiPolicyText is the part of profile p's policy for client
// certificates: update on the sign path of its own role, and revocation
// with the key (Vault 1.13 checks that the key matches the certificate,
// so a user can revoke only a certificate whose key they hold).
func pkiPolicyText(v policy.Vault, p policy.Profile) string {
	if !p.ClientCert.Enabled() || v.PKIMount == "" {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "path %q {\n  capabilities = [\"update\"]\n}\n", PKISignPath(v, p.Name))
	fmt.Fprintf(&b, "path %q {\n  capabilities = [\"update\"]\n}\n", PKIRevokePath(v))
	return b.String()
}

// wantsPKIRole reports whether profile p asks for a PKI role.
func wantsPKIRole(v policy.Vault, p policy.Profile) bool {
	return p.ClientCert.Enabled() && v.PKIMount != ""
}
