package config

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// The agent's read-only routes of a profile (issue 21 item 6). The admin
// sets them in policies/ (agent { read_only = true }), they come through
// the discovery document, and the user's config file can add them to a
// profile:
//
//	profile "ci" {
//	  agent { read_only = true }
//	}
//
// but never take them away: a profile of a higher layer that replaces a
// lower one keeps the lower one's read-only (narrowAgent), so
// read_only = false in the file changes nothing the broker set.

// AgentReadOnlyByBroker is AgentReadOnlyBy for the discovery document.
const AgentReadOnlyByBroker = "the broker's policies"

var agentSchema = &hcl.BodySchema{Attributes: attrSchemas([]string{"read_only"})}

// agent decodes a profile's agent blocks (at most one) into p.
func (d *decoder) agent(blocks hcl.Blocks, path string, p *Profile) {
	for i, b := range blocks {
		if i > 0 {
			d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate agent block",
				Detail:  fmt.Sprintf("Only one agent block is allowed in a profile. Another was defined at %s.", blocks[0].DefRange),
				Subject: &b.DefRange})
			continue
		}
		a := d.content(b.Body, agentSchema).Attributes
		if v, ok := d.value(a, "read_only", cty.Bool); ok && v.True() {
			p.AgentReadOnly, p.AgentReadOnlyBy = true, "the config file "+path
		}
	}
}

// narrowAgent is higher replacing lower (the same profile in two
// layers), with lower's read-only kept: a layer can add it, never remove
// it.
func narrowAgent(lower, higher Profile) Profile {
	if lower.AgentReadOnly {
		higher.AgentReadOnly, higher.AgentReadOnlyBy = true, lower.AgentReadOnlyBy
	}
	// The attended tier is the broker's only: a higher layer (the config
	// file) keeps it.
	if higher.Attended == nil {
		higher.Attended = lower.Attended
	}
	return higher
}
