package policy

import "strings"

// ProfilePolicyPrefix starts the name of the Vault policy generated for
// each profile (ProfilePolicy). The prefix is reserved: policies/vault
// may not hold files whose names start with it.
const ProfilePolicyPrefix = "alilogin-profile-"

// ProfilePolicy is the name of the Vault policy that apply generates for
// profile: it lets the profile's Vault token read <nomad mount>/creds/P and
// <consul mount>/creds/P, and its presence (with the managed marker) is what
// marks the JWT role, the nomad role and the consul role P as managed.
func ProfilePolicy(profile string) string { return ProfilePolicyPrefix + profile }

// ProfileOfPolicy is the inverse of ProfilePolicy.
func ProfileOfPolicy(policy string) (string, bool) {
	p, ok := strings.CutPrefix(policy, ProfilePolicyPrefix)
	return p, ok && p != ""
}

// GroupPrefix starts the name of the Vault identity group made for each
// role block: the group for SSO role R is GroupPrefix+R, lowercased (Vault
// compares identity names without case).
const GroupPrefix = "alilogin-role-"

// Group is the name of the Vault identity group for SSO role.
func Group(role string) string { return GroupPrefix + strings.ToLower(role) }

// NomadTokenPrefix is how the names of the Nomad ACL tokens that Vault's
// nomad secrets engine mints for role P start: Vault names them
// "vault-<role>-<display name>-<unix nanoseconds>", cut to 64 bytes. The
// token reaper uses it to tell which Nomad tokens belong to which profile.
func NomadTokenPrefix(profile string) string { return "vault-" + profile + "-" }

// ConsulTokenPrefix is how the descriptions of the Consul ACL tokens that
// Vault's consul secrets engine mints for role P start: Vault describes
// them as "Vault <role> <display name> <unix nanoseconds>".
func ConsulTokenPrefix(profile string) string { return "Vault " + profile + " " }

// reservedNames are the policy names that mean something to their server,
// per system (the folder under policies/), lowercased: a file or reference
// with such a name is refused (Reserved). Checked against the sources of
// Vault 1.13, Nomad 1.6 and Consul 1.16; docs/admin-guide.md lists them.
var reservedNames = map[string]map[string]string{
	"nomad": {
		"anonymous": "Nomad applies the policy named anonymous to every request made without a token",
	},
	"consul": {
		"global-management": "it is Consul's built-in policy with full access (its ID is fixed; it can be renamed, and then a policy of this name would look like it)",
	},
	"vault": {
		"root":              "it is Vault's root policy",
		"default":           "it is Vault's default policy, which every token gets",
		"response-wrapping": "it is Vault's policy of response-wrapping tokens",
		"control-group":     "it is Vault's policy of control-group tokens",
	},
}

// reservedPrefixes are name prefixes that a system reserves, or that the
// broker reserves for what it generates.
var reservedPrefixes = map[string]map[string]string{
	"consul": {"builtin/": "Consul reserves it for its built-in policies (builtin/global-read-only)"},
	"vault":  {ProfilePolicyPrefix: "the broker generates the policies named " + ProfilePolicyPrefix + "<profile>"},
}

// Reserved reports whether name, as a policy of system ("vault", "nomad"
// or "consul"), would reach the server as a name with a meaning to it, and
// why. Names are compared without case: Vault and Consul compare policy
// names that way, and Nomad's "Anonymous" would be a trap all the same.
func Reserved(system, name string) (why string, reserved bool) {
	n := strings.ToLower(name)
	if why, ok := reservedNames[system][n]; ok {
		return why, true
	}
	for p, why := range reservedPrefixes[system] {
		if strings.HasPrefix(n, p) {
			return why, true
		}
	}
	return "", false
}
