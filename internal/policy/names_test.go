package policy

import (
	"strings"
	"testing"
)

// TestReservedNames: the policy names with a meaning to their server are
// reserved in that system only, without case; names that merely look
// alike are not.
func TestReservedNames(t *testing.T) {
	tests := []struct {
		system, name string
		reserved     bool
	}{
		{"nomad", "anonymous", true},
		{"nomad", "ANONYMOUS", true},
		{"nomad", "anonymous-read", false},
		{"consul", "anonymous", false},
		{"vault", "anonymous", false},
		{"consul", "global-management", true},
		{"consul", "Global-Management", true},
		{"consul", "builtin/global-read-only", true},
		{"consul", "builtin/anything", true},
		{"consul", "global-read-only", false},
		{"nomad", "global-management", false},
		{"vault", "root", true},
		{"vault", "default", true},
		{"vault", "Default", true},
		{"vault", "response-wrapping", true},
		{"vault", "control-group", true},
		{"vault", "alilogin-profile-ci", true},
		{"vault", "rooted", false},
		{"vault", "defaults", false},
		{"nomad", "default", false},
		{"consul", "root", false},
	}
	for _, tc := range tests {
		why, got := Reserved(tc.system, tc.name)
		if got != tc.reserved || (got && why == "") {
			t.Errorf("Reserved(%q, %q) = %q, %v; want reserved %v with a reason", tc.system, tc.name, why, got, tc.reserved)
		}
	}
}

// TestReservedPolicyNamesAreRefused: a policy file named as a policy with
// a meaning to its server is an error at the file (Nomad's anonymous
// policy would open the cluster to requests without a token), and so is a
// profile's or role's reference to such a name, at the reference.
func TestReservedPolicyNamesAreRefused(t *testing.T) {
	const nomadRead = "namespace \"default\" {\n  policy = \"read\"\n}\n"
	const consulRead = "key_prefix \"\" {\n  policy = \"read\"\n}\n"
	const vaultRead = "path \"kv/*\" {\n  capabilities = [\"read\"]\n}\n"
	tests := []struct {
		name  string
		edits map[string]string
		want  []string
	}{
		{"nomad anonymous, unused", map[string]string{"nomad/anonymous.hcl": nomadRead},
			[]string{`nomad/anonymous.hcl:1:1: Reserved policy name: the nomad policy name "anonymous" is reserved: Nomad applies the policy named anonymous to every request made without a token; rename the file`}},
		{"consul global-management", map[string]string{"consul/global-management.hcl": consulRead},
			[]string{`consul/global-management.hcl:1:1: Reserved policy name: the consul policy name "global-management" is reserved: it is Consul's built-in policy with full access (its ID is fixed; it can be renamed, and then a policy of this name would look like it); rename the file`}},
		{"vault response-wrapping", map[string]string{"vault/response-wrapping.hcl": vaultRead},
			[]string{`vault/response-wrapping.hcl:1:1: Reserved policy name: the vault policy name "response-wrapping" is reserved: it is Vault's policy of response-wrapping tokens; rename the file`}},
		{"vault control-group", map[string]string{"vault/control-group.hcl": vaultRead},
			[]string{`vault/control-group.hcl:1:1: Reserved policy name: the vault policy name "control-group" is reserved: it is Vault's policy of control-group tokens; rename the file`}},
		{"vault root", map[string]string{"vault/root.hcl": vaultRead},
			[]string{`vault/root.hcl:1:1: Reserved policy name: the vault policy name "root" is reserved: it is Vault's root policy; rename the file`}},
		{"used by a profile: the file and the reference", map[string]string{
			"nomad/anonymous.hcl": nomadRead,
			"profiles.hcl":        strings.Replace(readMinimal(t, "profiles.hcl"), `["jobs-read"]`, `["jobs-read", "anonymous"]`, 1)},
			[]string{
				`nomad/anonymous.hcl:1:1: Reserved policy name: the nomad policy name "anonymous" is reserved: Nomad applies the policy named anonymous to every request made without a token; rename the file`,
				`profiles.hcl:5:35: Reserved policy name: the nomad policy name "anonymous" is reserved: Nomad applies the policy named anonymous to every request made without a token`,
			}},
		{"a role's reference to Vault's default policy", map[string]string{
			"roles.hcl": "role \"readers\" {\n  vault_policies = [\"default\"]\n}\n"},
			[]string{`roles.hcl:2:21: Reserved policy name: the vault policy name "default" is reserved: it is Vault's default policy, which every token gets`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantDiagnostics(t, tc.edits, tc.want)
		})
	}
}

func readMinimal(t *testing.T, name string) string {
	t.Helper()
	return string(minimal(t, nil)[name].Data)
}

// TestServerReservedLeavesOutTheBrokersPrefix: the names with a meaning to
// the server are those a live managed object must not keep; the broker's
// own generated names (alilogin-profile-P) are not among them.
func TestServerReservedLeavesOutTheBrokersPrefix(t *testing.T) {
	for _, tc := range []struct {
		system, name string
		reserved     bool
	}{
		{"nomad", "Anonymous", true},
		{"consul", "global-management", true},
		{"consul", "builtin/global-read-only", true},
		{"vault", "default", true},
		{"vault", "alilogin-profile-ci", false},
		{"nomad", "ci-read-jobs", false},
	} {
		if _, got := ServerReserved(tc.system, tc.name); got != tc.reserved {
			t.Errorf("ServerReserved(%q, %q) = %v, want %v", tc.system, tc.name, got, tc.reserved)
		}
	}
}

// TestReservedProfileNameIsRefused: a profile named alilogin-broker (the
// Vault roles operations.md sets up for broker serve's management tokens)
// is an error at its name.
func TestReservedProfileNameIsRefused(t *testing.T) {
	wantDiagnostics(t, map[string]string{"more.hcl": "profile \"alilogin-broker\" {\n  roles = [\"x\"]\n}\n"},
		[]string{`more.hcl:1:9: Reserved profile name: the profile name "alilogin-broker" is reserved: docs/deploy/operations.md sets up the Vault nomad and consul roles alilogin-broker for broker serve's own management tokens, and a profile's roles take its name; rename the profile`})
	for _, name := range []string{"alilogin-broker2", "alilogin", "broker"} {
		if _, ok := ReservedProfile(name); ok {
			t.Errorf("ReservedProfile(%q) = true", name)
		}
	}
}
