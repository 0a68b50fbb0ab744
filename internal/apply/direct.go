package apply

// direct.go: the objects of direct Nomad and Consul login (plan/direct.go).
//
// Nomad 1.6: GET /v1/acl/auth-methods, GET|POST|DELETE
// /v1/acl/auth-method/:name, POST /v1/acl/auth-method to create;
// GET /v1/acl/binding-rules, GET|POST|DELETE /v1/acl/binding-rule/:id,
// POST /v1/acl/binding-rule to create.
// Consul 1.16: GET /v1/acl/auth-methods, GET|PUT|DELETE
// /v1/acl/auth-method/:name, PUT /v1/acl/auth-method to create; GET
// /v1/acl/roles, PUT|DELETE /v1/acl/role/:id, PUT /v1/acl/role to create;
// GET /v1/acl/binding-rules, PUT|DELETE /v1/acl/binding-rule/:id, PUT
// /v1/acl/binding-rule to create.

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/alisw/alilogin/internal/plan"
)

type nomadAuthMethod struct {
	Name          string
	Type          string
	TokenLocality string
	MaxTokenTTL   string
	Default       bool
	Config        *nomadMethodConfig `json:",omitempty"`
}

type nomadMethodConfig struct {
	JWTValidationPubKeys []string
	JWKSURL              string
	OIDCDiscoveryURL     string
	BoundAudiences       []string
	BoundIssuer          []string
	DiscoveryCaPem       []string
	SigningAlgs          []string
	ExpirationLeeway     string
	NotBeforeLeeway      string
	ClockSkewLeeway      string
	ClaimMappings        map[string]string
	ListClaimMappings    map[string]string
}

type bindingRule struct {
	ID          string `json:",omitempty"`
	Description string
	AuthMethod  string
	Selector    string
	BindType    string
	BindName    string
}

type consulAuthMethod struct {
	Name          string
	Type          string
	Description   string
	MaxTokenTTL   string
	TokenLocality string
	Config        map[string]any `json:",omitempty"`
}

type consulRole struct {
	ID                string `json:",omitempty"`
	Name              string
	Description       string
	Policies          []consulLink
	ServiceIdentities []any
	NodeIdentities    []any
}

type consulLink struct {
	ID   string `json:",omitempty"`
	Name string
}

// nomadDirect reads Nomad's auth methods the broker may own and every
// binding rule in them.
func (r *reader) nomadDirect(ctx context.Context) error {
	names, err := r.ownableMethods(ctx, plan.Nomad, plan.NomadAuthMethod)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	methods := make([]plan.LiveMethod, len(names))
	err = r.s.parallel(ctx, len(names), func(int) plan.System { return plan.Nomad }, nil, func(ctx context.Context, i int) error {
		var m nomadAuthMethod
		if err := r.s.get(ctx, plan.Nomad, "/v1/acl/auth-method/"+url.PathEscape(names[i]), &m); err != nil {
			return err
		}
		methods[i] = plan.LiveMethod{Name: m.Name, Fields: nomadMethodFields(m)}
		return nil
	})
	if err != nil {
		return err
	}
	var ruleStubs []struct{ ID, AuthMethod string }
	if err := r.s.get(ctx, plan.Nomad, "/v1/acl/binding-rules", &ruleStubs); err != nil {
		return err
	}
	var ids []string
	for _, s := range ruleStubs {
		if inMethods(plan.NomadAuthMethod, names, s.AuthMethod) {
			ids = append(ids, s.ID)
		}
	}
	rules := make([]plan.LiveRule, len(ids))
	err = r.s.parallel(ctx, len(ids), func(int) plan.System { return plan.Nomad }, nil, func(ctx context.Context, i int) error {
		var b bindingRule
		if err := r.s.get(ctx, plan.Nomad, "/v1/acl/binding-rule/"+url.PathEscape(ids[i]), &b); err != nil {
			return err
		}
		rules[i] = liveRule(b)
		return nil
	})
	if err != nil {
		return err
	}
	r.addJudged(r.owner.AuthMethods(plan.NomadAuthMethod, methods, rules))
	return nil
}

// consulDirect reads Consul's auth methods and roles the broker may own
// and every binding rule in those methods.
func (r *reader) consulDirect(ctx context.Context) error {
	names, err := r.ownableMethods(ctx, plan.Consul, plan.ConsulAuthMethod)
	if err != nil {
		return err
	}
	methods := make([]plan.LiveMethod, len(names))
	err = r.s.parallel(ctx, len(names), func(int) plan.System { return plan.Consul }, nil, func(ctx context.Context, i int) error {
		var m consulAuthMethod
		if err := r.s.get(ctx, plan.Consul, "/v1/acl/auth-method/"+url.PathEscape(names[i]), &m); err != nil {
			return err
		}
		methods[i] = plan.LiveMethod{Name: m.Name, Description: m.Description, Fields: consulMethodFields(m)}
		return nil
	})
	if err != nil {
		return err
	}
	var rules []plan.LiveRule
	if len(names) > 0 {
		var all []bindingRule
		if err := r.s.get(ctx, plan.Consul, "/v1/acl/binding-rules", &all); err != nil {
			return err
		}
		for _, b := range all {
			if inMethods(plan.ConsulAuthMethod, names, b.AuthMethod) {
				rules = append(rules, liveRule(b))
			}
		}
	}
	r.addJudged(r.owner.AuthMethods(plan.ConsulAuthMethod, methods, rules))

	var roles []consulRole
	if err := r.s.get(ctx, plan.Consul, "/v1/acl/roles", &roles); err != nil {
		return err
	}
	for _, ro := range roles {
		if !r.owner.MayOwnConsulRole(ro.Name) {
			continue
		}
		pols := make([]string, 0, len(ro.Policies))
		for _, p := range ro.Policies {
			pols = append(pols, p.Name)
		}
		slices.Sort(pols)
		f := plan.Fields{"policies": pols, "service_identities": identities(ro.ServiceIdentities), "node_identities": identities(ro.NodeIdentities)}
		r.add(r.owner.ConsulRole(plan.Object{Kind: plan.ConsulACLRole, Name: ro.Name, ID: ro.ID, Fields: f}, ro.Description))
	}
	return nil
}

// ownableMethods lists the names of sys's auth methods (of kind k) that
// the broker may own.
func (r *reader) ownableMethods(ctx context.Context, sys plan.System, k plan.Kind) ([]string, error) {
	var stubs []struct{ Name string }
	if err := r.s.get(ctx, sys, "/v1/acl/auth-methods", &stubs); err != nil {
		return nil, err
	}
	var names []string
	for _, m := range stubs {
		if r.owner.MayOwnAuthMethod(k, m.Name) {
			names = append(names, m.Name)
		}
	}
	return names, nil
}

// aclPath is where change c of an ACL object is written: base for a
// create, else base/ and the object's ID (byID) or name.
func aclPath(c plan.Change, base string, byID bool) string {
	if c.Action == plan.Create {
		return base
	}
	id := c.Name
	if byID {
		id = c.Live.ID
	}
	return base + "/" + url.PathEscape(id)
}

// inMethods reports whether a binding rule whose AuthMethod is method is
// in one of the auth methods names of kind k, as its server counts it
// (plan.MethodKey: Consul without case).
func inMethods(k plan.Kind, names []string, method string) bool {
	return slices.ContainsFunc(names, func(n string) bool { return plan.MethodKey(k, n) == plan.MethodKey(k, method) })
}

// addJudged adds what plan.Owner.AuthMethods kept, and its conflicts.
func (r *reader) addJudged(live []plan.Object, conflicts []plan.Conflict) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out = append(r.out, live...)
	r.taken = append(r.taken, conflicts...)
}

func liveRule(b bindingRule) plan.LiveRule {
	return plan.LiveRule{ID: b.ID, Method: b.AuthMethod, Description: b.Description,
		Fields: plan.BindingRuleFields(b.AuthMethod, b.Selector, b.BindType, b.BindName)}
}

// identities renders service or node identities for comparison: only
// whether there are any matters (the broker writes none).
func identities(ids []any) []string {
	out := []string{}
	for _, id := range ids {
		out = append(out, fmt.Sprint(id))
	}
	return out
}

func nomadMethodFields(m nomadAuthMethod) plan.Fields {
	f := plan.Fields{
		"type": m.Type, "token_locality": m.TokenLocality, "max_token_ttl": durSeconds(m.MaxTokenTTL), "default": m.Default,
	}
	c := m.Config
	if c == nil {
		c = &nomadMethodConfig{}
	}
	f["oidc_discovery_url"] = c.OIDCDiscoveryURL
	f["bound_issuer"] = sortedCopy(c.BoundIssuer)
	f["bound_audiences"] = sortedCopy(c.BoundAudiences)
	f["claim_mappings"] = mappings(c.ClaimMappings)
	f["list_claim_mappings"] = mappings(c.ListClaimMappings)
	f["jwks_url"] = c.JWKSURL
	f["jwt_validation_pub_keys"] = sortedCopy(c.JWTValidationPubKeys)
	f["discovery_ca_pem"] = sortedCopy(c.DiscoveryCaPem)
	f["signing_algs"] = sortedCopy(c.SigningAlgs)
	f["expiration_leeway"] = durSeconds(c.ExpirationLeeway)
	f["not_before_leeway"] = durSeconds(c.NotBeforeLeeway)
	f["clock_skew_leeway"] = durSeconds(c.ClockSkewLeeway)
	return f
}

func consulMethodFields(m consulAuthMethod) plan.Fields {
	c := m.Config
	str := func(k string) string { s, _ := c[k].(string); return s }
	list := func(k string) []string {
		var out []string
		if l, ok := c[k].([]any); ok {
			for _, v := range l {
				out = append(out, fmt.Sprint(v))
			}
		}
		return sortedCopy(out)
	}
	maps := func(k string) map[string][]string {
		out := map[string][]string{}
		if mm, ok := c[k].(map[string]any); ok {
			for key, v := range mm {
				out[key] = []string{fmt.Sprint(v)}
			}
		}
		return out
	}
	return plan.Fields{
		"type": m.Type, "token_locality": m.TokenLocality, "max_token_ttl": durSeconds(m.MaxTokenTTL),
		"oidc_discovery_url":      str("OIDCDiscoveryURL"),
		"bound_issuer":            str("BoundIssuer"),
		"bound_audiences":         list("BoundAudiences"),
		"claim_mappings":          maps("ClaimMappings"),
		"list_claim_mappings":     maps("ListClaimMappings"),
		"jwks_url":                str("JWKSURL"),
		"jwt_validation_pub_keys": list("JWTValidationPubKeys"),
		"oidc_discovery_ca_cert":  str("OIDCDiscoveryCACert"),
		"jwt_supported_algs":      list("JWTSupportedAlgs"),
		"expiration_leeway":       durSeconds(c["ExpirationLeeway"]),
		"not_before_leeway":       durSeconds(c["NotBeforeLeeway"]),
		"clock_skew_leeway":       durSeconds(c["ClockSkewLeeway"]),
	}
}

// durSeconds reads a duration as the servers give it back (a Go
// duration string, or nanoseconds) as whole seconds; -1 for what it
// cannot read, so that it differs from anything the broker writes.
func durSeconds(v any) int64 {
	switch v := v.(type) {
	case nil:
		return 0
	case string:
		if v == "" {
			return 0
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return -1
		}
		return int64(d / time.Second)
	case float64:
		return int64(time.Duration(v) / time.Second)
	}
	return -1
}

func mappings(m map[string]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range m {
		out[k] = []string{v}
	}
	return out
}

func sortedCopy(s []string) []string {
	out := append([]string{}, s...)
	slices.Sort(out)
	return out
}

// flat turns a claim mapping field back into what the servers take.
func flat(f plan.Fields, k string) map[string]string {
	m, _ := f[k].(map[string][]string)
	out := map[string]string{}
	for claim, v := range m {
		if len(v) > 0 {
			out[claim] = v[0]
		}
	}
	return out
}

func ttlString(f plan.Fields) string {
	s, _ := f["max_token_ttl"].(int64)
	return (time.Duration(s) * time.Second).String()
}

func (s *session) applyNomadAuthMethod(ctx context.Context, c plan.Change) error {
	path := aclPath(c, "/v1/acl/auth-method", false)
	if c.Action == plan.Delete {
		return s.call(ctx, plan.Nomad, "DELETE", path, nil, nil)
	}
	f := c.Desired.Fields
	str := func(k string) string { v, _ := f[k].(string); return v }
	list := func(k string) []string { v, _ := f[k].([]string); return v }
	m := nomadAuthMethod{
		Name: c.Name, Type: str("type"), TokenLocality: str("token_locality"), MaxTokenTTL: ttlString(f),
		Config: &nomadMethodConfig{
			OIDCDiscoveryURL:     str("oidc_discovery_url"),
			BoundIssuer:          list("bound_issuer"),
			BoundAudiences:       list("bound_audiences"),
			ClaimMappings:        flat(f, "claim_mappings"),
			ListClaimMappings:    flat(f, "list_claim_mappings"),
			JWKSURL:              str("jwks_url"),
			JWTValidationPubKeys: list("jwt_validation_pub_keys"),
			DiscoveryCaPem:       list("discovery_ca_pem"),
			SigningAlgs:          list("signing_algs"),
		},
	}
	return s.call(ctx, plan.Nomad, "POST", path, m, nil)
}

func (s *session) applyConsulAuthMethod(ctx context.Context, c plan.Change) error {
	path := aclPath(c, "/v1/acl/auth-method", false)
	if c.Action == plan.Delete {
		return s.call(ctx, plan.Consul, "DELETE", path, nil, nil)
	}
	f := c.Desired.Fields
	str := func(k string) string { v, _ := f[k].(string); return v }
	list := func(k string) []string { v, _ := f[k].([]string); return v }
	cfg := map[string]any{
		"OIDCDiscoveryURL":  str("oidc_discovery_url"),
		"BoundIssuer":       str("bound_issuer"),
		"BoundAudiences":    list("bound_audiences"),
		"ClaimMappings":     flat(f, "claim_mappings"),
		"ListClaimMappings": flat(f, "list_claim_mappings"),
	}
	if ca := str("oidc_discovery_ca_cert"); ca != "" {
		cfg["OIDCDiscoveryCACert"] = ca
	}
	m := consulAuthMethod{Name: c.Name, Type: str("type"), Description: plan.DirectDescription(plan.ConsulAuthMethod, c.Name),
		MaxTokenTTL: ttlString(f), TokenLocality: str("token_locality"), Config: cfg}
	return s.call(ctx, plan.Consul, "PUT", path, m, nil)
}

func (s *session) applyConsulACLRole(ctx context.Context, c plan.Change) error {
	path := aclPath(c, "/v1/acl/role", true)
	if c.Action == plan.Delete {
		return s.call(ctx, plan.Consul, "DELETE", path, nil, nil)
	}
	pols, _ := c.Desired.Fields["policies"].([]string)
	ro := consulRole{Name: c.Name, Description: plan.DirectDescription(plan.ConsulACLRole, c.Name), ServiceIdentities: []any{}, NodeIdentities: []any{}}
	if c.Live != nil {
		ro.ID = c.Live.ID
	}
	for _, p := range pols {
		ro.Policies = append(ro.Policies, consulLink{Name: p})
	}
	return s.call(ctx, plan.Consul, "PUT", path, ro, nil)
}

// applyBindingRule writes a Nomad or Consul binding rule (Nomad takes
// POST, Consul PUT).
func (s *session) applyBindingRule(ctx context.Context, c plan.Change) error {
	sys, write := plan.Nomad, "POST"
	if c.Kind == plan.ConsulBindingRule {
		sys, write = plan.Consul, "PUT"
	}
	path := aclPath(c, "/v1/acl/binding-rule", true)
	if c.Action == plan.Delete {
		return s.call(ctx, sys, "DELETE", path, nil, nil)
	}
	f := c.Desired.Fields
	str := func(k string) string { v, _ := f[k].(string); return v }
	b := bindingRule{Description: plan.DirectDescription(c.Kind, c.Name), AuthMethod: str("auth_method"),
		Selector: str("selector"), BindType: str("bind_type"), BindName: str("bind_name")}
	if c.Live != nil {
		b.ID = c.Live.ID
	}
	return s.call(ctx, sys, write, path, b, nil)
}
