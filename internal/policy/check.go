package policy

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	nameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	roleRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@:-]{0,127}$`)
	claimRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)
)

// CheckName checks a profile or policy name. Names end up in Vault, Nomad
// and Consul object names and URL paths; the rule is the intersection of
// what the three accept (Nomad allows no '_' or '.', Vault lowercases).
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%q is not a valid name: want 1 to 64 of a-z, 0-9 and '-', starting with a letter or digit", name)
	}
	return nil
}

// CheckRole checks an SSO role value (an e-group name at CERN).
func CheckRole(role string) error {
	if !roleRE.MatchString(role) {
		return fmt.Errorf("%q is not a valid SSO role: want letters, digits and _ . @ : -, starting with a letter or digit", role)
	}
	return nil
}

// CheckClaim checks a claim name or a JSON pointer (RFC 6901) to a claim,
// the two forms Vault's JWT auth method takes in bound_claims, user_claim
// and groups_claim.
func CheckClaim(claim string) error {
	if !strings.Contains(claim, "/") {
		if !claimRE.MatchString(claim) {
			return fmt.Errorf("%q is not a valid claim name", claim)
		}
		return nil
	}
	if !strings.HasPrefix(claim, "/") {
		return fmt.Errorf("%q is neither a claim name nor a JSON pointer: a JSON pointer starts with '/'", claim)
	}
	for _, tok := range strings.Split(claim[1:], "/") {
		if tok == "" {
			return fmt.Errorf("JSON pointer %q has an empty reference token", claim)
		}
		for i := 0; i < len(tok); i++ {
			if tok[i] == '~' && (i+1 == len(tok) || (tok[i+1] != '0' && tok[i+1] != '1')) {
				return fmt.Errorf("JSON pointer %q: '~' must be followed by 0 or 1 (RFC 6901)", claim)
			}
			if tok[i] < 0x20 || tok[i] == 0x7f {
				return fmt.Errorf("JSON pointer %q has a control character", claim)
			}
		}
	}
	return nil
}

// IsPointer reports whether claim is a JSON pointer rather than a name.
func IsPointer(claim string) bool { return strings.HasPrefix(claim, "/") }
