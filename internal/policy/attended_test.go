package policy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const attendedBroker = `sso {
  issuer    = "https://sso.example.org/realms/test"
  client_id = "alilogin-test"
}

vault {}

attended {
  client_id          = "alilogin-elevate"
  client_secret_file = "/etc/alilogin-broker/oidc-secret"
}
`

// wantLoadError loads the minimal policies with broker.hcl (unless "")
// and profiles.hcl replaced, and fails unless that gives a policy error
// containing want; it returns the error.
func wantLoadError(t *testing.T, broker, profile, want string) error {
	t.Helper()
	edits := map[string]string{"profiles.hcl": profile}
	if broker != "" {
		edits["broker.hcl"] = broker
	}
	_, err := LoadFS(minimal(t, edits), "p")
	var perr *Error
	if !errors.As(err, &perr) || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v; want one containing %q", err, want)
	}
	return err
}

// readerProfile is profile "reader" of the minimal policies with block
// (an attended tier, client certificate settings) added to it.
func readerProfile(block string) string {
	return `profile "reader" {
  roles           = ["readers"]
  vault_policies  = ["secrets-read"]
  nomad_policies  = ["jobs-read"]
  consul_policies = ["kv-read"]
  max_ttl         = "8h"
` + block + "}\n"
}

func TestAttendedTierLoads(t *testing.T) {
	block := `  attended {
    vault_policies   = ["secrets-read"]
    nomad_management = true
    consul_policies  = ["kv-read"]
    window           = "10m"
    uses             = 3
    acr              = "urn:alice:stepup"
  }
`
	cfg, err := LoadFS(minimal(t, map[string]string{"broker.hcl": attendedBroker, "profiles.hcl": readerProfile(block)}), "p")
	if err != nil {
		t.Fatal(err)
	}
	want := Attended{VaultPolicies: []string{"secrets-read"}, NomadManagement: true, ConsulPolicies: []string{"kv-read"},
		Window: 10 * time.Minute, Uses: 3, MaxAge: DefaultMaxAge, ACR: "urn:alice:stepup"}
	if d := cmp.Diff(want, cfg.Profiles[0].Attended); d != "" {
		t.Errorf("attended tier (-want +got):\n%s", d)
	}
	wantS := &AttendedSettings{OIDCMount: "oidc", ClientID: "alilogin-elevate", ClientSecretFile: "/etc/alilogin-broker/oidc-secret"}
	if d := cmp.Diff(wantS, cfg.Attended); d != "" || cfg.Vault.OIDCMount != "oidc" {
		t.Errorf("attended settings (-want +got):\n%s (vault oidc mount %q)", d, cfg.Vault.OIDCMount)
	}
	if !cfg.GrantsNomad() || !cfg.GrantsConsul() {
		t.Error("the attended tier's Nomad and Consul tokens need the engines")
	}
}

// TestAttendedTierErrors: each mistake in an attended tier is refused
// with its file:line; a Nomad management token anywhere but an attended
// block, and a client secret in policies/, are refused.
func TestAttendedTierErrors(t *testing.T) {
	tier := func(body string) string { return readerProfile("  attended {\n" + body + "  }\n") }
	tests := []struct {
		name, broker, profile, want string
	}{
		{"management outside attended", attendedBroker, readerProfile("  nomad_management = true\n"),
			`p/profiles.hcl:7:3: Nomad management token refused: a Nomad management token is allowed only in a profile's attended block`},
		{"no attended block in broker.hcl", "", tier("    vault_policies = [\"secrets-read\"]\n    window = \"10m\"\n"),
			`p/profiles.hcl:7:3: Missing attended block`},
		{"no window", attendedBroker, tier("    vault_policies = [\"secrets-read\"]\n"),
			`p/profiles.hcl:7:12: Missing required argument: The argument "window" is required`},
		{"window over max_ttl", attendedBroker, tier("    vault_policies = [\"secrets-read\"]\n    window = \"9h\"\n"),
			`p/profiles.hcl:9:14: Invalid window: window (9h0m0s) is longer than the profile's max_ttl (8h0m0s)`},
		{"max_age too long", attendedBroker, tier("    vault_policies = [\"secrets-read\"]\n    window = \"10m\"\n    max_age = \"2h\"\n"),
			`p/profiles.hcl:10:15: Invalid max_age: max_age (2h0m0s) must be between 30s and 1h0m0s`},
		{"negative uses", attendedBroker, tier("    vault_policies = [\"secrets-read\"]\n    window = \"10m\"\n    uses = -1\n"),
			`p/profiles.hcl:10:12: Invalid uses: uses (-1) must be between 0`},
		{"grants nothing", attendedBroker, tier("    window = \"10m\"\n"),
			`p/profiles.hcl:7:3: Empty attended block`},
		{"management and policies", attendedBroker, tier("    nomad_management = true\n    nomad_policies = [\"jobs-read\"]\n    window = \"10m\"\n"),
			`Invalid nomad_management: a Nomad management token has every right`},
		{"unknown policy", attendedBroker, tier("    vault_policies = [\"nope\"]\n    window = \"10m\"\n"),
			`p/profiles.hcl:8:23: Missing policy: vault policy "nope" is not defined`},
		{"acr with a space", attendedBroker, tier("    vault_policies = [\"secrets-read\"]\n    window = \"10m\"\n    acr = \"a b\"\n"),
			`Invalid acr`},
		{"secret in policies", strings.Replace(attendedBroker, `client_secret_file = "/etc/alilogin-broker/oidc-secret"`, `client_secret = "s3cr3t-value"`, 1), readerProfile(""),
			`p/broker.hcl:10:3: Secret in policies: the client secret never goes in policies/`},
		{"same client as the sso", strings.Replace(attendedBroker, `"alilogin-elevate"`, `"alilogin-test"`, 1), readerProfile(""),
			`Invalid client_id: the attended client_id is the sso block's`},
		{"oidc mount is the jwt mount", strings.Replace(attendedBroker, "attended {\n", "attended {\n  oidc_mount = \"jwt\"\n", 1), readerProfile(""),
			`Invalid oidc_mount`},
		{"duplicate attended block", attendedBroker, readerProfile("  attended {\n    vault_policies = [\"secrets-read\"]\n    window = \"10m\"\n  }\n  attended {\n    window = \"1m\"\n  }\n"),
			`Duplicate attended block`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := wantLoadError(t, tc.broker, tc.profile, tc.want)
			if err != nil && strings.Contains(err.Error(), "s3cr3t-value") {
				t.Error("the error repeats the secret")
			}
		})
	}
}

func TestAttendedRoleNames(t *testing.T) {
	if got := AttendedRole("ops"); got != "ops.attended" {
		t.Errorf("AttendedRole: %q", got)
	}
	if p, ok := ProfileOfAttendedRole("ops.attended"); !ok || p != "ops" {
		t.Errorf("ProfileOfAttendedRole: %q %v", p, ok)
	}
	for _, n := range []string{"ops", ".attended", "ops-attended"} {
		if _, ok := ProfileOfAttendedRole(n); ok {
			t.Errorf("%q read as an attended role", n)
		}
	}
	// No profile can be called like an attended role: names have no '.'.
	if CheckName(AttendedRole("ops")) == nil {
		t.Error("a profile name may hold an attended role's name")
	}
	if _, ok := Reserved("vault", AttendedPolicy("ops")); !ok {
		t.Error("the attended policy prefix is not reserved")
	}
}
