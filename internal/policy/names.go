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
