package guard

import (
	"net/http"
	"strings"

	"github.com/alisw/alilogin/internal/store"
)

// OutlivesWindow reports whether a write (method on the canonical path
// p) to server changes who may do what there: ACL policies, tokens,
// roles, auth methods and their roles or configuration, binding rules,
// identities. Through an attended window such a change would keep the
// window's access after its end (a Nomad anonymous policy that writes, a
// Consul token with a SecretID of the caller's choosing, a Vault policy
// or auth role), so elevated gates refuse it (Rules.Attended). Reads
// (GET, HEAD, Vault's LIST) are never such a change.
//
// Nomad and Consul: every write under /v1/acl/ (policy, token, role,
// auth-method, binding-rule, bootstrap, login, one-time tokens); Consul's
// /v1/agent/token/ too (the agent's own tokens). Vault: sys/policy,
// sys/policies/, sys/auth (enabling or tuning auth methods), every path
// of an auth mount other than the token store's own token operations
// (roles, users, groups, certificates, config...), the token store's
// orphan tokens and roles (auth/token/create-orphan, auth/token/create/:role,
// auth/token/roles/), and identity/.
func OutlivesWindow(server store.Kind, method, p string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, "LIST":
		return false
	}
	lp := lower(p)
	switch server {
	case store.Nomad:
		return strings.HasPrefix(lp, "/v1/acl/")
	case store.Consul:
		return strings.HasPrefix(lp, "/v1/acl/") || strings.HasPrefix(lp, "/v1/agent/token/")
	case store.Vault:
		v := strings.TrimPrefix(lp, "/v1/")
		switch {
		case v == "sys/policy" || strings.HasPrefix(v, "sys/policy/"),
			v == "sys/policies" || strings.HasPrefix(v, "sys/policies/"),
			v == "sys/auth" || strings.HasPrefix(v, "sys/auth/"),
			v == "identity" || strings.HasPrefix(v, "identity/"):
			return true
		case strings.HasPrefix(v, "auth/token/"):
			op := strings.TrimPrefix(v, "auth/token/")
			return op == "create-orphan" || strings.HasPrefix(op, "create/") ||
				op == "roles" || strings.HasPrefix(op, "roles/")
		case strings.HasPrefix(v, "auth/"):
			return true
		}
	}
	return false
}
