package policy

import (
	"github.com/hashicorp/hcl/v2"
)

// Agent is what a profile says about the alilogin agent's routes
// (issue 21 item 6): profile "x" { agent { read_only = true } }.
type Agent struct {
	// ReadOnly limits the agent's routes of the profile to each server's
	// read-only allow-list (internal/agent/guard). Users get it through
	// the discovery document; a user's config file can add it, never
	// take it away.
	ReadOnly bool
}

var agentSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "agent"}, {Type: "attended"}}}

// loadProfileAndAgent reads a profile block with its optional agent
// and attended blocks (attended.go): they are taken out of the body
// here, and the rest is read by loadProfile as before.
func (l *loader) loadProfileAndAgent(b *hcl.Block) {
	content, rest, diags := b.Body.PartialContent(agentSchema)
	l.diags = append(l.diags, diags...)
	before := len(l.cfg.Profiles)
	mgmt, rest, diags := rest.PartialContent(managementSchema)
	l.diags = append(l.diags, diags...)
	l.refuseManagement(mgmt) // attended.go
	pb := *b
	pb.Body = rest
	l.loadProfile(&pb)
	var a Agent
	var first *hcl.Block
	var attended hcl.Blocks
	for _, ab := range content.Blocks {
		if ab.Type == "attended" {
			attended = append(attended, ab)
			continue
		}
		if first != nil {
			l.errorf(ab.DefRange.Ptr(), "Duplicate agent block", "profile %q already has an agent block at %s", b.Labels[0], rangeString(first.DefRange.Ptr()))
			continue
		}
		first = ab
		attrs := l.attrs(ab, []hcl.AttributeSchema{{Name: "read_only"}})
		a.ReadOnly = l.boolean(attrs, "read_only")
	}
	if len(l.cfg.Profiles) > before { // not a duplicate profile
		p := &l.cfg.Profiles[len(l.cfg.Profiles)-1]
		p.Agent = a
		l.loadAttended(attended, p) // attended.go
	}
}
