package apply

import (
	"context"
	"net/url"

	"github.com/alisw/alilogin/internal/plan"
)

// Consul ACL policies: GET /v1/acl/policies, GET|PUT|DELETE
// /v1/acl/policy/:id, PUT /v1/acl/policy to create. The marker is the
// Description (plan.DescriptionOwned).

type consulPolicy struct {
	ID          string `json:",omitempty"`
	Name        string
	Description string
	Rules       string `json:",omitempty"`
}

func (r *reader) consulPolicies(ctx context.Context) error {
	var list []consulPolicy
	if err := r.s.get(ctx, plan.Consul, "/v1/acl/policies", &list); err != nil {
		return err
	}
	var read []consulPolicy
	for _, p := range list {
		// Those whose listed description is not the broker's are
		// judged as listed; the others are read in full.
		if o, keep := r.owner.ACLPolicy(plan.Object{Kind: plan.ConsulPolicy, Name: p.Name, ID: p.ID}, p.Description); !o.Managed {
			r.add(o, keep)
			continue
		}
		read = append(read, p)
	}
	ids := make([]string, len(read))
	for i, p := range read {
		ids[i] = p.ID
	}
	return r.each(ctx, plan.Consul, ids, func(ctx context.Context, id string) error {
		var p consulPolicy
		if err := r.s.get(ctx, plan.Consul, "/v1/acl/policy/"+url.PathEscape(id), &p); err != nil {
			return err
		}
		r.add(r.owner.ACLPolicy(plan.Object{Kind: plan.ConsulPolicy, Name: p.Name, ID: p.ID, Fields: plan.Fields{"rules": p.Rules}}, p.Description))
		return nil
	})
}

func (s *session) applyConsulPolicy(ctx context.Context, c plan.Change) error {
	switch c.Action {
	case plan.Delete:
		return s.call(ctx, plan.Consul, "DELETE", "/v1/acl/policy/"+url.PathEscape(c.Live.ID), nil, nil)
	case plan.Update:
		f := c.Desired.Fields
		return s.call(ctx, plan.Consul, "PUT", "/v1/acl/policy/"+url.PathEscape(c.Live.ID),
			consulPolicy{ID: c.Live.ID, Name: c.Name, Description: plan.Description(plan.ConsulPolicy, c.Name), Rules: f["rules"].(string)}, nil)
	}
	f := c.Desired.Fields
	return s.call(ctx, plan.Consul, "PUT", "/v1/acl/policy", consulPolicy{Name: c.Name, Description: plan.Description(plan.ConsulPolicy, c.Name), Rules: f["rules"].(string)}, nil)
}
