package plan

import (
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
// reads back (RoleFieldNames): every field Vault 1.13 returns for a
// role, since each one shapes what the role signs (names, subject
// attributes, key usages, lifetime, issuer, lease), written explicitly.
var PKIRoleFieldNames = []string{
	"allow_any_name", "allow_bare_domains", "allow_glob_domains", "allow_ip_sans", "allow_localhost",
	"allow_subdomains", "allow_token_displayname", "allow_wildcard_certificates", "allowed_domains",
	"allowed_domains_template", "allowed_other_sans", "allowed_serial_numbers", "allowed_uri_sans",
	"allowed_uri_sans_template", "allowed_user_ids", "basic_constraints_valid_for_non_ca", "client_flag",
	"cn_validations", "code_signing_flag", "country", "email_protection_flag", "enforce_hostnames",
	"ext_key_usage", "ext_key_usage_oids", "generate_lease", "issuer_ref", "key_bits", "key_type",
	"key_usage", "locality", "max_ttl", "no_store", "not_after", "not_before_duration", "organization",
	"ou", "policy_identifiers", "postal_code", "province", "require_cn", "server_flag", "signature_bits",
	"street_address", "ttl", "use_csr_common_name", "use_csr_sans", "use_pss",
}

// PKIRoleListFields are the PKI role fields that are lists of strings;
// PKIRoleStringFields and PKIRoleNumberFields are strings and numbers,
// the rest booleans.
var (
	PKIRoleListFields = []string{
		"allowed_domains", "allowed_other_sans", "allowed_serial_numbers", "allowed_uri_sans", "allowed_user_ids",
		"cn_validations", "country", "ext_key_usage", "ext_key_usage_oids", "key_usage", "locality",
		"organization", "ou", "policy_identifiers", "postal_code", "province", "street_address",
	}
	PKIRoleStringFields = []string{"issuer_ref", "key_type", "not_after"}
	PKIRoleNumberFields = []string{"key_bits", "max_ttl", "not_before_duration", "signature_bits", "ttl"}
)

// PKIRoleFields are the settings of the PKI role of profile p: the
// certificate's only name is the CSR's common name, which must be the
// caller's alias name on the JWT mount and a host name (allowed_domains
// templated, bare, no subdomains, globs, wildcards, IPs, localhost, URIs,
// e-mail forms or other names: cn_validations hostname, with the sign
// policy refusing exclude_cn_from_sans and alt_names, pkiPolicyText);
// no subject attributes but the name; client use only; an EC P-256 key;
// the profile's certificate TTL as both TTL and max TTL, no fixed
// not_after; signed by the mount's default issuer; stored (no_store
// false), so that it can be revoked and shows in <mount>/certs/revoked;
// with a lease (generate_lease), so that Vault revokes the certificate
// with the Vault token that signed it (revoked, or expired unrenewed).
func PKIRoleFields(p policy.Profile) Fields {
	ttl := seconds(p.ClientCert.TTL)
	return Fields{
		"allowed_domains":          []string{AliasTemplate(JWTAccessor)},
		"allowed_domains_template": true,
		"allow_bare_domains":       true,
		"enforce_hostnames":        true,
		// The name must be a host name: "disabled" let any CN through
		// with exclude_cn_from_sans, and "email" lets carol@alice match
		// alice's bare domain. The alias name is the SSO's login name.
		"cn_validations":                     []string{"hostname"},
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
		"generate_lease":                     true,
		"allow_token_displayname":            false,
		"allowed_serial_numbers":             []string{},
		"organization":                       []string{},
		"ou":                                 []string{},
		"country":                            []string{},
		"province":                           []string{},
		"locality":                           []string{},
		"street_address":                     []string{},
		"postal_code":                        []string{},
		"issuer_ref":                         "default",
		"not_after":                          "",
		"not_before_duration":                int64(30),
		"signature_bits":                     int64(0),
		"use_pss":                            false,
	}
}

// PKISignPath is where a user of profile p sends a CSR.
func PKISignPath(v policy.Vault, p string) string { return v.PKIMount + "/sign/" + p }

// PKIRevokePath is where the holder of a certificate's key revokes it.
func PKIRevokePath(v policy.Vault) string { return v.PKIMount + "/revoke-with-key" }

// pkiRules are the rules of profile p's policy for client certificates
// (ProfileRules): update on the sign path of its own role with no request
// fields but the CSR, the format and the TTL (what clientcert.Sign sends;
// the role caps the TTL at its max_ttl): exclude_cn_from_sans, alt_names,
// other_sans, not_after and the rest are refused, so the certificate
// carries the CSR's common name only and the role's lifetime; and
// revocation with the key (Vault 1.13 checks that the key matches the
// certificate, whichever certificate or serial number the body names, so
// a user can revoke only a certificate whose key they hold). The
// certificate's lease (pki/sign/P/...) is revoked with the Vault token
// that signed it; the lease rules (ProfileRules) reach no PKI lease.
func pkiRules(v policy.Vault, p policy.Profile) []PolicyRule {
	if !wantsPKIRole(v, p) {
		return nil
	}
	return []PolicyRule{
		{Path: PKISignPath(v, p.Name), Capabilities: []string{"update"},
			Allowed: []Param{{Name: "csr"}, {Name: "format", Values: []string{"pem"}}, {Name: "ttl"}}},
		{Path: PKIRevokePath(v), Capabilities: []string{"update"}},
	}
}

// wantsPKIRole reports whether profile p asks for a PKI role.
func wantsPKIRole(v policy.Vault, p policy.Profile) bool {
	return p.ClientCert.Enabled() && v.PKIMount != ""
}
