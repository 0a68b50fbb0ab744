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

// serverPrefixes are name prefixes that a system reserves.
var serverPrefixes = map[string]map[string]string{
	"consul": {"builtin/": "Consul reserves it for its built-in policies (builtin/global-read-only)"},
}

// brokerPrefixes are name prefixes that the broker reserves for what it
// generates.
var brokerPrefixes = map[string]map[string]string{
	"vault": {
		ProfilePolicyPrefix:  "the broker generates the policies named " + ProfilePolicyPrefix + "<profile>",
		AttendedPolicyPrefix: "the broker generates the policies named " + AttendedPolicyPrefix + "<profile> for attended tiers",
	},
}

// Reserved reports whether name, as a policy of system ("vault", "nomad"
// or "consul"), would reach the server as a name with a meaning to it
// (ServerReserved), or is one the broker generates, and why. Names are
// compared without case: Vault and Consul compare policy names that way,
// and Nomad's "Anonymous" would be a trap all the same.
func Reserved(system, name string) (why string, reserved bool) {
	if why, ok := ServerReserved(system, name); ok {
		return why, true
	}
	return prefixed(brokerPrefixes[system], name)
}

// ServerReserved reports whether name, as a policy of system, has a
// meaning to that server (Nomad's anonymous, Consul's global-management,
// Vault's default...), and why: a live policy of such a name that the
// broker made (before names were checked) is a hole to close, not a
// stale object (plan.Diff deletes it even without prune).
func ServerReserved(system, name string) (why string, reserved bool) {
	if why, ok := reservedNames[system][strings.ToLower(name)]; ok {
		return why, true
	}
	return prefixed(serverPrefixes[system], name)
}

func prefixed(prefixes map[string]string, name string) (string, bool) {
	n := strings.ToLower(name)
	for p, why := range prefixes {
		if strings.HasPrefix(n, p) {
			return why, true
		}
	}
	return "", false
}

// BrokerRole is the name of the Vault roles that docs/deploy/operations.md
// sets up for broker serve's own tokens: a nomad role of type management
// and a consul role with acl = "write". A profile of that name would share
// those roles: applied before that setup, its nomad role is overwritten
// with type management, and its users read management tokens from
// nomad/creds/alilogin-broker.
const BrokerRole = "alilogin-broker"

// ReservedProfile reports whether name may not be a profile's, and why
// (compared without case, although CheckName admits lower case only).
func ReservedProfile(name string) (why string, reserved bool) {
	if strings.EqualFold(name, BrokerRole) {
		return "docs/deploy/operations.md sets up the Vault nomad and consul roles " + BrokerRole + " for broker serve's own management tokens, and a profile's roles take its name", true
	}
	return "", false
}
