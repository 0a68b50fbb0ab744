package plan

import (
	"fmt"
	"strings"

	"github.com/alisw/alilogin/internal/policy"
)

// The Vault policy generated for profile P, alilogin-profile-P, is a list
// of rules (ProfileRules), each with the request parameters it admits.
// Vault 1.13 reads several lease endpoints' lease id from the request body
// before the URL (sys/leases/revoke, sys/leases/renew, sys/renew: field
// lease_id over url_lease_id), and a rule on a path says nothing of the
// body: a rule on sys/leases/revoke/<mount>/creds/P/* alone lets P's token
// revoke any lease named in the body. So every rule on a lease endpoint
// is in the path form, sys/leases/{revoke,renew}/<mount>/creds/P/*, and
// admits no lease_id in the body:
//
//   - revoking admits no request parameter at all (denied_parameters
//     "*"), so the lease is the one the path names, one of P's
//     (issue.RevokeLease);
//   - renewing admits increment only (allowed_parameters), likewise
//     (issue.RenewLease).
//
// Vault's default policy, which every token gets, allows the body forms
// sys/leases/renew and sys/renew for any lease id, and renewing someone
// else's lease with an increment of one second makes it expire, a
// revocation in all but name. No rule of the broker's can close that for
// every token (Vault merges the parameter limits of a token's policies,
// so a profile's rules narrow only its own tokens), so the admin adds
// denied_parameters on lease_id to the default policy itself
// (DefaultPolicyLeaseDeny, defaultpolicy.go), and plan and apply check
// that it is there (CheckDefaultPolicy). With that deny, which applies to
// every token, a renewal by body of the broker's engines' leases is
// refused to P's token too: hence the path form.
//
// sys/leases/lookup (Vault's default policy, any lease id in the body)
// is left as it is: it changes nothing and tells a lease's times only.
// docs/security.md lists each rule with its constraint.

// PolicyRule is one path block of a generated Vault policy.
type PolicyRule struct {
	Path         string
	Capabilities []string
	// Allowed and Denied are the allowed_parameters and
	// denied_parameters of the block, in order: a parameter with no
	// values admits (denies) any value; values may be globs ("x/*").
	Allowed, Denied []Param
}

// Param is a request parameter with the values a rule admits or denies.
type Param struct {
	Name   string
	Values []string
}

// ProfileRules are the rules of the Vault policy generated for profile p:
// for each of its nomad and consul roles (when it has them), read on the
// role's creds, and revocation (issue.RevokeLease) and renewal
// (issue.RenewLease) of the role's leases in the path form; the client
// certificate rules (pkiRules, pki.go).
func ProfileRules(v policy.Vault, p policy.Profile) []PolicyRule {
	var out []PolicyRule
	for _, e := range []struct {
		mount string
		used  bool
	}{{v.NomadMount, len(p.NomadPolicies) > 0}, {v.ConsulMount, len(p.ConsulPolicies) > 0}} {
		if !e.used {
			continue
		}
		creds := e.mount + "/creds/" + p.Name
		out = append(out,
			PolicyRule{Path: creds, Capabilities: []string{"read"}},
			PolicyRule{Path: "sys/leases/revoke/" + creds + "/*", Capabilities: []string{"update"}, Denied: []Param{{Name: "*"}}},
			PolicyRule{Path: "sys/leases/renew/" + creds + "/*", Capabilities: []string{"update"}, Allowed: []Param{{Name: "increment"}}},
		)
	}
	return append(out, pkiRules(v, p)...) // pki.go
}

// ProfilePolicyText is the Vault policy generated for profile p (after
// its marker line, see VaultPolicyText): ProfileRules in Vault's policy
// language.
func ProfilePolicyText(v policy.Vault, p policy.Profile) string {
	var b strings.Builder
	for _, r := range ProfileRules(v, p) {
		b.WriteString(r.String())
	}
	return b.String()
}

// String renders r as a path block of Vault's policy language.
func (r PolicyRule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "path %q {\n  capabilities = %s\n", r.Path, quoteList(r.Capabilities))
	for _, ps := range []struct {
		key    string
		params []Param
	}{{"allowed_parameters", r.Allowed}, {"denied_parameters", r.Denied}} {
		if len(ps.params) == 0 {
			continue
		}
		fmt.Fprintf(&b, "  %s = {\n", ps.key)
		for _, p := range ps.params {
			name := p.Name
			if name == "*" {
				name = `"*"`
			}
			fmt.Fprintf(&b, "    %s = %s\n", name, quoteList(p.Values))
		}
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	return b.String()
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
