package apply

import (
	"context"
	"net/url"

	"github.com/alisw/alilogin/internal/plan"
)

// Nomad ACL policies: GET /v1/acl/policies, GET|POST|DELETE /v1/acl/policy/:name.
// The marker is the Description (plan.DescriptionOwned).

type nomadPolicy struct {
	Name        string
	Description string
	Rules       string `json:",omitempty"`
}

func (r *reader) nomadPolicies(ctx context.Context) error {
	var list []nomadPolicy
	if err := r.s.get(ctx, plan.Nomad, "/v1/acl/policies", &list); err != nil {
		return err
	}
	var read []string
	for _, p := range list {
		// Those whose listed description is not the broker's are
		// judged as listed; the others are read in full.
		if o, keep := r.owner.ACLPolicy(plan.Object{Kind: plan.NomadPolicy, Name: p.Name}, p.Description); !o.Managed {
			r.add(o, keep)
			continue
		}
		read = append(read, p.Name)
	}
	return r.each(ctx, plan.Nomad, read, func(ctx context.Context, name string) error {
		var p nomadPolicy
		if err := r.s.get(ctx, plan.Nomad, "/v1/acl/policy/"+url.PathEscape(name), &p); err != nil {
			return err
		}
		r.add(r.owner.ACLPolicy(plan.Object{Kind: plan.NomadPolicy, Name: name, Fields: plan.Fields{"rules": p.Rules}}, p.Description))
		return nil
	})
}

func (s *session) applyNomadPolicy(ctx context.Context, c plan.Change) error {
	path := "/v1/acl/policy/" + url.PathEscape(c.Name)
	if c.Action == plan.Delete {
		return s.call(ctx, plan.Nomad, "DELETE", path, nil, nil)
	}
	f := c.Desired.Fields
	return s.call(ctx, plan.Nomad, "POST", path, nomadPolicy{Name: c.Name, Description: plan.Description(plan.NomadPolicy, c.Name), Rules: f["rules"].(string)}, nil)
}
