package guard

import (
	"net/http"
	"strings"
)

// secretRule is what the fixed rules of issue 21 item 4 say of a
// request: refused (why), or allowed with fields blanked in its answer.
type secretRule struct {
	refuse string
	blank  *Blank
}

// The answers' secret fields, by server.
var (
	// Vault: a login's token (auth.client_token: every auth/ answer,
	// renew-self and renew return the token renewed, an unwrapped
	// token-create answer, sys/mfa/validate finishing an MFA login), a
	// wrapping token (wrap_info.token: an answer wrapped by a policy's
	// min_wrapping_ttl), and data.id of a token lookup
	// (auth/token/lookup-self, lookup, lookup-accessor).
	vaultAuthBlank   = &Blank{At: [][]string{{"auth", "client_token"}, {"wrap_info", "token"}}}
	vaultLookupBlank = &Blank{At: [][]string{{"auth", "client_token"}, {"wrap_info", "token"}, {"data", "id"}}}
	// Nomad and Consul: every ACL token object carries SecretID (token
	// self, read, create, update, clone, bootstrap, login, Nomad's OIDC
	// complete-auth and one-time exchange, Consul's and Nomad's token
	// lists for a management token: measured on the stack); Nomad's
	// one-time token carries OneTimeSecretID. Blanked at any depth in
	// every /v1/acl/ answer. (Nomad's event stream empties SecretID of its
	// ACLToken events itself: structs.NewACLTokenEvent.)
	aclBlank = &Blank{Keys: []string{"SecretID", "OneTimeSecretID"}}
)

// vaultSecret: the rules for Vault 1.13. p is the canonical path.
func vaultSecret(r *http.Request, p string, m Mounts) secretRule {
	// Response wrapping: Vault reads only the X-Vault-Wrap-TTL header
	// (http/handler.go requestWrapInfo, r.Header.Get: the first value);
	// any value, even an empty one beside another, is refused here.
	// X-Vault-Wrap-Format only matters with it.
	for _, h := range []string{"X-Vault-Wrap-Ttl", "X-Vault-Wrap-Format"} {
		if _, ok := r.Header[h]; ok {
			return secretRule{refuse: "response wrapping (" + h + ") would give the client a token that unwraps the answer"}
		}
	}
	// Namespaces are Vault Enterprise's: OSS 1.13 ignores the header
	// (adjustRequest is a no-op), Enterprise prefixes every path with it,
	// which the rules below would not see.
	if len(r.Header.Values("X-Vault-Namespace")) > 0 {
		return secretRule{refuse: "Vault namespaces (X-Vault-Namespace) are not supported through the agent"}
	}
	lp := vaultLogical(p)
	switch {
	case strings.HasPrefix(lp, "auth/token/create"):
		// create, create-orphan, create/<role>: a child token.
		return secretRule{refuse: "auth/token/create makes a new Vault token"}
	case lp == "auth/token/revoke-self":
		return secretRule{refuse: "revoke-self would end the agent's Vault token for every tool; run: alilogin logout"}
	case vaultCreds(r, lp):
		return secretRule{refuse: credsRefusal(lp, m)}
	case vaultIssues(r.Method, lp):
		return secretRule{refuse: "signing or issuing at " + lp + " would give a certificate or key (any Vault mount: a client certificate the servers may accept)"}
	case under(lp, "sys/wrapping/wrap"), under(lp, "sys/wrapping/rewrap"):
		// wrap wraps the client's own data and rewrap swaps a wrapping
		// token for another: neither is needed through the agent, and
		// both answer with a token.
		return secretRule{refuse: "sys/wrapping/wrap and rewrap answer with a wrapping token"}
	case under(lp, "sys/generate-root"), under(lp, "sys/generate-recovery-token"):
		return secretRule{refuse: "root token generation is not done through the agent"}
	case under(lp, "sys/raw"):
		return secretRule{refuse: "sys/raw reads Vault's storage, tokens included"}
	case under(lp, "sys/storage/raft/snapshot"), under(lp, "sys/storage/raft/snapshot-force"):
		return secretRule{refuse: "a Raft snapshot holds Vault's whole storage"}
	case under(lp, "identity/oidc/token"), oidcAuthorize(lp):
		// identity/oidc/token/:role signs an identity token; the OIDC
		// provider's authorize endpoint gives a code that a public
		// (PKCE) client exchanges for an ID token of the user.
		return secretRule{refuse: "Vault's identity tokens are not minted through the agent"}
	case appRoleSecretID(lp):
		return secretRule{refuse: "an AppRole SecretID logs in to Vault without the agent"}
	case strings.HasPrefix(lp, "auth/token/lookup"):
		return secretRule{blank: vaultLookupBlank}
	case strings.HasPrefix(lp, "auth/"), lp == "sys/wrapping/unwrap", lp == "sys/mfa/validate":
		return secretRule{blank: vaultAuthBlank}
	}
	return secretRule{}
}

// oidcAuthorize: identity/oidc/provider/:name/authorize (Vault 1.13's
// OIDC provider).
func oidcAuthorize(lp string) bool {
	segs := strings.Split(lp, "/")
	return len(segs) == 5 && segs[0] == "identity" && segs[1] == "oidc" && segs[2] == "provider" && segs[4] == "authorize"
}

// appRoleSecretID: auth/<mount...>/role/:name/secret-id and
// custom-secret-id of an AppRole mount (any mount path): they make a
// SecretID, which with the role id logs in without the agent. (Their
// lookups, secret-id/lookup and secret-id-accessor/..., are left.)
func appRoleSecretID(lp string) bool {
	segs := strings.Split(lp, "/")
	n := len(segs)
	return n >= 5 && segs[0] == "auth" && segs[n-3] == "role" &&
		(segs[n-1] == "secret-id" || segs[n-1] == "custom-secret-id")
}

// vaultCreds: a secrets engine's creds path at any mount, however deep
// (<mount...>/creds/:role, and the creds "directory" listed): the nomad
// and consul engines mint a real Nomad or Consul token there (Vault 1.13
// builtin/logical/nomad path_creds_create.go, consul path_token.go),
// and a request does not say which engine a mount is: a second nomad
// engine at a mount the discovery document does not name (nomad-ci,
// secret-engines/nomad-ci) mints as well. So the shape is refused, not
// the named mounts: the database, AWS and SSH engines' creds are refused
// with them (use alilogin exec without --agent for those). A KV key
// whose last segment is "creds" is still read (GET without ?list); one
// with a "creds" segment followed by one more segment is refused.
func vaultCreds(r *http.Request, lp string) bool {
	segs := strings.Split(lp, "/")
	if segs[0] == "sys" {
		// Vault's own routes (no engine is mounted under sys/): the
		// lease paths name leases of creds (sys/leases/lookup/nomad/
		// creds/P/, revoke-prefix/nomad/creds/P) and mint nothing.
		return false
	}
	for i := 1; i < len(segs); i++ {
		if segs[i] != "creds" {
			continue
		}
		switch len(segs) - i {
		case 2:
			return true // <mount...>/creds/:role
		case 1:
			// <mount...>/creds: minting needs a role, but a list of it
			// (LIST, ?list=, or a write) is refused with the rest.
			read := r.Method == http.MethodGet || r.Method == http.MethodHead
			if !read || r.URL.Query().Has("list") || strings.HasSuffix(r.URL.Path, "/") {
				return true
			}
		}
	}
	return false
}

// credsRefusal names the engine when the mount is one the discovery
// document names (or a default one).
func credsRefusal(lp string, m Mounts) string {
	switch {
	case under(lp, mountOr(m.Nomad, "nomad")+"/creds"), under(lp, "nomad/creds"):
		return "reading the nomad engine's creds mints a new Nomad token"
	case under(lp, mountOr(m.Consul, "consul")+"/creds"), under(lp, "consul/creds"):
		return "reading the consul engine's creds mints a new Consul token"
	}
	return "reading an engine's creds at " + lp + " mints a new credential (a nomad or consul engine's creds are real tokens)"
}

// vaultIssues: the writes that sign a CSR or issue a key and certificate,
// at any mount (Vault 1.13 builtin/logical/pki: issue/:role, sign/:role,
// sign-verbatim[/:role], issuer/:ref/issue|sign|sign-verbatim/:role,
// root/sign-intermediate, root/sign-self-issued, issuer/:ref/sign-
// intermediate, and the "exported" generate paths that return a private
// key; the SSH engine's sign/:role and issue/:role). Any PKI mount, not
// only the discovery document's: the servers' trust may include another
// issuer of the same root. Only POST, PUT and PATCH: these paths answer
// nothing else (a GET of pki/issue/R is 405, measured), so a KV key
// named "issue" can still be read. The transit engine's sign/:key is
// refused with them (its sign/:key/:algorithm is not).
func vaultIssues(method, lp string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return false
	}
	segs := strings.Split(lp, "/")
	n := len(segs)
	for i := 1; i < n; i++ {
		s, rest := segs[i], n-1-i
		switch {
		case (s == "issue" || s == "sign") && rest == 1:
			return true
		case strings.HasPrefix(s, "sign-verbatim") && rest <= 1:
			return true
		case (s == "sign-intermediate" || s == "sign-self-issued" || s == "exported") && rest == 0:
			return true
		}
	}
	return false
}

// vaultLogical is Vault's logical path of p (http/logical.go: the path
// after /v1/), in ASCII lower case and without a trailing slash, for
// matching the refused routes.
func vaultLogical(p string) string {
	return strings.TrimSuffix(lower(strings.TrimPrefix(p, "/v1/")), "/")
}

// nomadSecret: the rules for Nomad 1.6.1 (routes of command/agent/http.go).
func nomadSecret(method, p string) secretRule {
	lp := strings.TrimSuffix(lower(p), "/")
	switch {
	case under(lp, "/v1/acl/token/onetime"):
		// POST /v1/acl/token/onetime needs no capability and makes a
		// one-time token of the caller's; /exchange turns it into the
		// SecretID. The UI's sign-in link is their only use.
		return secretRule{refuse: "Nomad one-time tokens exchange for the real token"}
	case under(lp, "/v1/operator/snapshot"):
		return secretRule{refuse: "a Nomad snapshot holds every ACL token"}
	case under(lp, "/v1/agent/keyring"):
		return secretRule{refuse: "the agent keyring holds the cluster's gossip keys"}
	case under(lp, "/v1/acl"):
		return secretRule{blank: aclBlank}
	}
	return secretRule{}
}

// consulSecret: the rules for Consul 1.16.3 (http_register.go). Consul
// also takes a token from ?token= (parseTokenInternal, before the
// headers; measured: it works in 1.16); the agent removes that parameter
// with the token headers before it puts in the real token.
func consulSecret(method, p string) secretRule {
	lp := strings.TrimSuffix(lower(p), "/")
	switch {
	case under(lp, "/v1/snapshot"):
		return secretRule{refuse: "a Consul snapshot holds every ACL token"}
	case under(lp, "/v1/operator/keyring"):
		return secretRule{refuse: "the keyring holds the cluster's gossip keys"}
	case lp == "/v1/peering/token":
		// The peering token lets another cluster peer with this one.
		return secretRule{refuse: "a peering token admits another cluster"}
	case under(lp, "/v1/agent/connect/ca/leaf"):
		return secretRule{refuse: "a Connect leaf certificate comes with its private key"}
	case lp == "/v1/connect/ca/configuration" && method != http.MethodPut:
		return secretRule{refuse: "the CA configuration may hold the CA's private key or a Vault token"}
	case under(lp, "/v1/acl"):
		return secretRule{blank: aclBlank}
	}
	return secretRule{}
}

// under: p is prefix or below it (both lower case, no trailing slash).
func under(p, prefix string) bool {
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}

// mountOr is mount in the form the rules compare: lower case, no
// leading or trailing slash; def when empty.
func mountOr(mount, def string) string {
	m := strings.Trim(lower(mount), "/")
	if m == "" {
		return def
	}
	return m
}
