package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
)

// RoleFieldNames are the fields of a role of kind k that the broker
// writes on every create and update and reads back: every setting of the
// role that widens what it hands out, the defaults written explicitly, so
// that a hand edit of any of them is drift (plan shows it, apply and serve
// repair it) and a role is the broker's by digest only when all of them
// are what the broker wrote.
func RoleFieldNames(k Kind) []string {
	switch k {
	case NomadRole:
		return []string{"global", "policies", "type"}
	case ConsulRole:
		return []string{"consul_namespace", "consul_policies", "consul_roles", "local", "max_ttl",
			"node_identities", "partition", "service_identities", "token_type", "ttl"}
	case JWTRole:
		return []string{"bound_audiences", "bound_claims", "bound_claims_type", "bound_subject",
			"claim_mappings", "clock_skew_leeway", "expiration_leeway", "groups_claim", "not_before_leeway",
			"role_type", "token_bound_cidrs", "token_explicit_max_ttl", "token_max_ttl", "token_no_default_policy",
			"token_num_uses", "token_period", "token_policies", "token_ttl", "token_type", "user_claim",
			"user_claim_json_pointer", "verbose_oidc_logging"}
	case PKIRole:
		return PKIRoleFieldNames
	case AttendedNomadRole:
		return RoleFieldNames(NomadRole)
	case AttendedConsulRole:
		return RoleFieldNames(ConsulRole)
	case OIDCRole:
		return append(RoleFieldNames(JWTRole), "allowed_redirect_uris", "max_age", "oidc_scopes")
	}
	return nil
}

// RoleDigest is a short SHA-256 of the canonical form of the fields
// RoleFieldNames(k) of f: what a pending= entry records of the role the
// broker is about to write (see PendingEntry). An empty list and an unset
// one digest alike, as the servers do not tell them apart.
func RoleDigest(k Kind, f Fields) string {
	var b strings.Builder
	for _, name := range RoleFieldNames(k) {
		v := f[name]
		switch x := v.(type) {
		case []string:
			if x == nil {
				v = []string{}
			}
		case map[string][]string:
			m := make(map[string][]string, len(x))
			for key, list := range x {
				if list == nil {
					list = []string{}
				}
				m[key] = list
			}
			v = m
		}
		enc, _ := json.Marshal(v) // canonical values always encode
		b.WriteString(name)
		b.WriteByte('=')
		b.Write(enc)
		b.WriteByte('\n')
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:8])
}

// PendingEntry is how pending= records role k of profile fields f on
// mount: RoleEntry#RoleDigest.
func PendingEntry(k Kind, mount string, f Fields) string {
	return RoleEntry(k, mount) + "#" + RoleDigest(k, f)
}

// PendingDigests reads the pending= entries of role entry e (RoleEntry):
// the digests recorded for it, and whether it is also recorded without a
// digest (as the version before wrote pending=).
func PendingDigests(pending []string, e string) (digests []string, bare bool) {
	for _, p := range pending {
		entry, digest, hasDigest := strings.Cut(p, "#")
		switch {
		case entry != e:
		case hasDigest && digest != "":
			digests = append(digests, digest)
		case !hasDigest:
			bare = true
		}
	}
	return digests, bare
}

// PendingOwned reports whether the live role k (fields live) whose record
// has pending entries pending for entry e is the broker's: its fields
// digest to one recorded; or, for a digest-less entry of the version
// before, the files still ask for the role (desired not nil) and it is
// exactly that.
func PendingOwned(k Kind, e string, pending []string, desired, live Fields) bool {
	digests, bare := PendingDigests(pending, e)
	if live == nil {
		return false
	}
	if slices.Contains(digests, RoleDigest(k, live)) {
		return true
	}
	return bare && desired != nil && SameFields(desired, live)
}
