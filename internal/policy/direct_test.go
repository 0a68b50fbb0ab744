package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const directBroker = "sso {\n  issuer    = \"https://sso.example.org/realms/test\"\n  client_id = \"alilogin-test\"\n}\n\nvault {}\n\ndirect_login {\n  enabled = true\n}\n"

// TestDirectLoginModes: with broker.hcl's block, a profile with Nomad or
// Consul policies defaults to fallback, says always or off when told; a
// profile without them is off; without the block, every profile is off.
func TestDirectLoginModes(t *testing.T) {
	profiles := `profile "reader" {
  roles          = ["readers"]
  vault_policies = ["secrets-read"]
  nomad_policies = ["jobs-read"]
  consul_policies = ["kv-read"]
}
profile "always" {
  roles          = ["readers"]
  consul_policies = ["kv-read"]
  direct_login   = "always"
}
profile "off" {
  roles          = ["readers"]
  nomad_policies = ["jobs-read"]
  direct_login   = "off"
}
profile "vault-only" {
  roles          = ["readers"]
  vault_policies = ["secrets-read"]
}
`
	for _, tc := range []struct {
		name   string
		broker string
		want   map[string]string
	}{
		{"enabled", directBroker, map[string]string{"always": DirectAlways, "off": DirectOff, "reader": DirectFallback, "vault-only": DirectOff}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadFS(minimal(t, map[string]string{"broker.hcl": tc.broker, "profiles.hcl": profiles}), "p")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range cfg.Profiles {
				got[p.Name] = p.DirectLogin
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("modes (-want +got):\n%s", d)
			}
			if !cfg.DirectLogin.Enabled {
				t.Error("direct_login block not read")
			}
		})
	}
	cfg, err := LoadFS(minimal(t, nil), "p")
	if err != nil {
		t.Fatal(err)
	}
	if p := cfg.Profiles[0]; p.DirectLogin != DirectOff || p.Direct() {
		t.Errorf("without the broker.hcl block: mode %q, Direct %v; want off", p.DirectLogin, p.Direct())
	}
}

// TestDirectLoginProblems: what validate refuses, with file and line.
func TestDirectLoginProblems(t *testing.T) {
	tests := []struct {
		name  string
		edits map[string]string
		want  string
	}{
		{"profile asks but broker.hcl does not enable", map[string]string{"profiles.hcl": "profile \"reader\" {\n  roles = [\"readers\"]\n  nomad_policies = [\"jobs-read\"]\n  direct_login = \"fallback\"\n}\n"},
			`p/profiles.hcl:4:18: Direct login not enabled: profile "reader" asks for direct_login = "fallback", but broker.hcl does not enable it`},
		{"unknown mode", map[string]string{"broker.hcl": directBroker, "profiles.hcl": "profile \"reader\" {\n  roles = [\"readers\"]\n  nomad_policies = [\"jobs-read\"]\n  direct_login = \"sometimes\"\n}\n"},
			`p/profiles.hcl:4:18: Invalid direct_login: "sometimes": want "fallback", "always" or "off"`},
		{"no Nomad or Consul policy", map[string]string{"broker.hcl": directBroker, "profiles.hcl": "profile \"reader\" {\n  roles = [\"readers\"]\n  vault_policies = [\"secrets-read\"]\n  direct_login = \"always\"\n}\n"},
			`p/profiles.hcl:4:18: Invalid direct_login: profile "reader" grants no Nomad or Consul policy`},
		{"ttl below a minute", map[string]string{"broker.hcl": directBroker, "profiles.hcl": "profile \"reader\" {\n  roles = [\"readers\"]\n  nomad_policies = [\"jobs-read\"]\n  ttl = \"30s\"\n}\n"},
			`p/profiles.hcl:4:9: Invalid ttl for direct login: profile "reader": ttl 30s is outside what Nomad and Consul allow an auth method's tokens (1m0s to 24h0m0s)`},
		{"ttl above a day", map[string]string{"broker.hcl": directBroker, "profiles.hcl": "profile \"reader\" {\n  roles = [\"readers\"]\n  consul_policies = [\"kv-read\"]\n  ttl = \"25h\"\n  max_ttl = \"48h\"\n}\n"},
			`p/profiles.hcl:4:9: Invalid ttl for direct login: profile "reader": ttl 25h0m0s is outside`},
		{"duplicate broker block", map[string]string{"broker.hcl": directBroker + "direct_login {\n  enabled = true\n}\n"},
			`p/broker.hcl:11:1: Duplicate direct_login block`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadFS(minimal(t, tc.edits), "p")
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to hold:\n%s", err, tc.want)
			}
		})
	}
	// A long ttl is fine without direct login.
	if _, err := LoadFS(minimal(t, map[string]string{"profiles.hcl": "profile \"reader\" {\n  roles = [\"readers\"]\n  nomad_policies = [\"jobs-read\"]\n  ttl = \"25h\"\n  max_ttl = \"48h\"\n}\n"}), "p"); err != nil {
		t.Errorf("a 25h ttl without direct login: %v", err)
	}
}

// TestDirectSelectorRefusesInjection: a role that could close the quote
// or add to the selector never makes a selector; the safe ones are
// quoted and joined with or.
func TestDirectSelectorRefusesInjection(t *testing.T) {
	got, err := DirectSelector([]string{"alice-ci-admins", "a.b@c:d_e"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `"alice-ci-admins" in list.roles or "a.b@c:d_e" in list.roles`; got != want {
		t.Errorf("selector = %s, want %s", got, want)
	}
	for _, bad := range []string{`x" in list.roles or "y`, `x\`, `a b`, "", `x" or true or "`, "é"} {
		if s, err := DirectSelector([]string{"ok", bad}); err == nil {
			t.Errorf("DirectSelector(%q) = %s, want an error", bad, s)
		}
	}
	// validate refuses such a role in a profile, naming file and line
	// (CheckRole's set is inside the selector's).
	_, err = LoadFS(minimal(t, map[string]string{"broker.hcl": directBroker, "profiles.hcl": "profile \"reader\" {\n  roles = [\"x\\\" in list.roles or \\\"y\"]\n  nomad_policies = [\"jobs-read\"]\n}\n"}), "p")
	if err == nil || !strings.Contains(err.Error(), "p/profiles.hcl:2:") {
		t.Errorf("a role with a quote: %v, want an error at profiles.hcl:2", err)
	}
}
