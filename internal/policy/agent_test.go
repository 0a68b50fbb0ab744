package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestProfileAgentReadOnly(t *testing.T) {
	for _, c := range []struct {
		name, body string
		want       Agent
	}{
		{"no agent block", "", Agent{}},
		{"read only", "  agent {\n    read_only = true\n  }", Agent{ReadOnly: true}},
		{"explicitly not", "  agent {\n    read_only = false\n  }", Agent{}},
		{"empty block", "  agent {}", Agent{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := LoadFS(minimal(t, map[string]string{"profiles.hcl": strings.Replace(profileWith, "%s", c.body, 1)}), "p")
			if err != nil {
				t.Fatal(err)
			}
			p, _ := cfg.Profile("reader")
			if d := cmp.Diff(c.want, p.Agent); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestProfileAgentProblemsSayWhere(t *testing.T) {
	for _, c := range []struct {
		name, body string
		want       []string
	}{
		{"not a bool", "  agent {\n    read_only = \"yes\"\n  }",
			[]string{`profiles.hcl:4:17: Invalid value: read_only must be true or false`}},
		{"unknown setting", "  agent {\n    read_write = true\n  }",
			[]string{`profiles.hcl:4:5: Unsupported argument: An argument named "read_write" is not expected here.`}},
		{"two agent blocks", "  agent {\n    read_only = true\n  }\n  agent {}",
			[]string{`profiles.hcl:6:3: Duplicate agent block: profile "reader" already has an agent block at p/profiles.hcl:3:3`}},
		{"a label", "  agent \"nomad\" {\n    read_only = true\n  }",
			[]string{`profiles.hcl:3:9: Extraneous label for agent: No labels are expected for agent blocks.`}},
		{"an attribute, not a block", "  agent = true",
			[]string{`profiles.hcl:3:3: Unsupported argument: An argument named "agent" is not expected here.`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantDiagnostics(t, map[string]string{"profiles.hcl": strings.Replace(profileWith, "%s", c.body, 1)}, c.want)
		})
	}
}
