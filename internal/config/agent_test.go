package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/discovery"
)

// resolveWith resolves a config file (text) over a discovery document in
// which the profiles named in brokerRO are read-only.
func resolveWith(t *testing.T, file string, brokerRO ...string) (*Config, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.hcl")
	if err := os.WriteFile(path, []byte("broker = \"https://broker.example\"\n"+file), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := &discovery.Document{Version: 1,
		SSO:   discovery.SSO{Issuer: "https://sso.example", ClientID: "alilogin"},
		Vault: discovery.Vault{Addr: "https://vault.example:8200"},
		Profiles: []discovery.Profile{
			{Name: "ci", Roles: []string{"alice-ci-users"}, Nomad: true},
			{Name: "admin", Roles: []string{"alice-ci-admins"}, Nomad: true},
		}}
	for i := range doc.Profiles {
		for _, n := range brokerRO {
			if doc.Profiles[i].Name == n {
				doc.Profiles[i].Agent.ReadOnly = true
			}
		}
	}
	getenv := func(k string) string { return map[string]string{"ALILOGIN_CONFIG": path}[k] }
	c, err := Resolve(Sources{Getenv: getenv, Discover: func(string) (Config, error) { return FromDiscovery(doc), nil }})
	if err != nil {
		t.Fatal(err)
	}
	return c, path
}

func TestAgentReadOnlyFileCannotWiden(t *testing.T) {
	for _, c := range []struct {
		name, file string
		brokerRO   []string
		wantCI     bool
		wantBy     string // "broker", "file" or ""
	}{
		{"broker sets it", "", []string{"ci"}, true, "broker"},
		{"file profile without agent block keeps it", "profile \"ci\" {\n  roles = [\"x\"]\n}\n", []string{"ci"}, true, "broker"},
		{"read_only = false in the file changes nothing", "profile \"ci\" {\n  agent {\n    read_only = false\n  }\n}\n", []string{"ci"}, true, "broker"},
		{"file and broker", "profile \"ci\" {\n  agent {\n    read_only = true\n  }\n}\n", []string{"ci"}, true, "broker"},
		{"file narrows", "profile \"ci\" {\n  agent {\n    read_only = true\n  }\n}\n", nil, true, "file"},
		{"neither", "profile \"ci\" {\n  agent {}\n}\n", nil, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, path := resolveWith(t, c.file, c.brokerRO...)
			p, ok := cfg.Profile("ci")
			if !ok {
				t.Fatal("no profile ci")
			}
			want := map[string]string{"broker": AgentReadOnlyByBroker, "file": "the config file " + path, "": ""}[c.wantBy]
			if p.AgentReadOnly != c.wantCI || p.AgentReadOnlyBy != want {
				t.Errorf("ci: read-only %v by %q, want %v by %q", p.AgentReadOnly, p.AgentReadOnlyBy, c.wantCI, want)
			}
			if a, _ := cfg.Profile("admin"); a.AgentReadOnly {
				t.Errorf("admin made read-only")
			}
		})
	}
}

func TestAgentBlockProblemsSayWhere(t *testing.T) {
	for _, c := range []struct{ name, file, want string }{
		{"two blocks", "profile \"ci\" {\n  agent {}\n  agent {}\n}\n", "x.hcl:3,3-8: Duplicate agent block"},
		{"not a bool", "profile \"ci\" {\n  agent {\n    read_only = \"yes\"\n  }\n}\n", "x.hcl:3,18-21: Unsuitable value type; Unsuitable value for read_only: a bool is required"},
		{"unknown setting", "profile \"ci\" {\n  agent {\n    servers = [\"nomad\"]\n  }\n}\n", "x.hcl:3,5-12: Unsupported argument"},
		{"a label", "profile \"ci\" {\n  agent \"nomad\" {}\n}\n", "x.hcl:2,9-16: Extraneous label for agent"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("x.hcl", []byte(c.file))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}
