package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/alisw/alilogin/internal/discovery"
)

// TestAttendedTierFileCannotRemove: the attended tier comes from the
// broker's discovery document and stays when the config file has a
// block for the same profile (which replaces the discovery's).
func TestAttendedTierFileCannotRemove(t *testing.T) {
	for _, file := range []string{"", "profile \"ci\" {\n  roles = [\"x\"]\n}\n"} {
		path := filepath.Join(t.TempDir(), "config.hcl")
		if err := os.WriteFile(path, []byte("broker = \"https://broker.example\"\n"+file), 0o600); err != nil {
			t.Fatal(err)
		}
		doc := &discovery.Document{Version: 1, SSO: discovery.SSO{Issuer: "https://sso.example", ClientID: "alilogin"},
			Vault: discovery.Vault{Addr: "https://vault.example:8200"},
			Profiles: []discovery.Profile{{Name: "ci", Roles: []string{"alice-ci-users"},
				Attended: &discovery.Attended{OIDCMount: "oidc", Role: "ci-attended", Window: "10m0s", RedirectPath: "/oidc/callback"}}}}
		getenv := func(k string) string { return map[string]string{"ALILOGIN_CONFIG": path}[k] }
		c, err := Resolve(Sources{Getenv: getenv, Discover: func(string) (Config, error) { return FromDiscovery(doc), nil }})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := c.Profile("ci")
		if p.Attended == nil || p.Attended.Role != "ci-attended" {
			t.Errorf("file %q: attended tier %+v, want the broker's", file, p.Attended)
		}
	}
}
