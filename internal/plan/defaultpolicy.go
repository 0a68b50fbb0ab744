package plan

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"
)

// Vault's default policy, which every token gets unless it was made with
// no_default_policy, allows the body forms of lease renewal
// (sys/leases/renew and, for old clients, sys/renew) for any lease id.
// Renewing a lease with an increment of one second makes it expire a
// second later, and Vault then revokes the Nomad or Consul token behind
// it: any token (another auth method's, a CI's AppRole, a Nomad
// workload's) could end any user's token. The broker does not own the
// default policy; the admin adds a denied_parameters rule on lease_id for
// the broker's engines (DefaultPolicyLeaseDeny), and plan, apply and
// serve check that it is there (CheckDefaultPolicy). Denied parameters
// are merged across a token's policies, so once there the deny holds for
// every token, the profiles' and broker serve's included: they renew in
// the path form (sys/leases/renew/<lease id>, profilepolicy.go), which
// the default policy does not grant.

// DefaultPolicy is the name of Vault's default policy.
const DefaultPolicy = "default"

// renewPaths are the body forms of lease renewal that Vault 1.13's
// default policy grants (the second is the old one).
var renewPaths = []string{"sys/leases/renew", "sys/renew"}

// LeaseGlob is the lease-id glob of the leases of a secrets engine at
// mount: "nomad" -> "nomad/creds/*".
func LeaseGlob(mount string) string { return mount + "/creds/*" }

// DefaultPolicyLeaseRules are the rules to add to Vault's default policy
// so that no token renews a lease of the engines at mounts by body.
func DefaultPolicyLeaseRules(mounts []string) []PolicyRule {
	globs := make([]string, len(mounts))
	for i, m := range mounts {
		globs[i] = LeaseGlob(m)
	}
	out := make([]PolicyRule, len(renewPaths))
	for i, p := range renewPaths {
		out[i] = PolicyRule{Path: p, Capabilities: []string{"update"}, Denied: []Param{{Name: "lease_id", Values: globs}}}
	}
	return out
}

// DefaultPolicyLeaseDeny is DefaultPolicyLeaseRules in Vault's policy
// language: the text to append to the default policy.
func DefaultPolicyLeaseDeny(mounts []string) string {
	var b strings.Builder
	for _, r := range DefaultPolicyLeaseRules(mounts) {
		b.WriteString(r.String())
	}
	return b.String()
}

// DefaultPolicyCheck is what CheckDefaultPolicy found.
type DefaultPolicyCheck struct {
	// Mounts are the engines whose leases were checked (those the
	// profiles grant tokens of); none: nothing was checked.
	Mounts []string
	// Open are the renewals the default policy grants for those leases,
	// as "<path> for <glob>" (e.g. "sys/leases/renew for nomad/creds/*").
	Open []string
	// Err: the policy could not be read as Vault's policy language; the
	// deny cannot be shown to be there.
	Err error
}

// Checked reports whether the default policy was looked at for some
// engine.
func (c DefaultPolicyCheck) Checked() bool { return len(c.Mounts) > 0 }

// Hole reports whether the default policy lets every token shorten the
// leases of the checked engines, or could not be shown not to.
func (c DefaultPolicyCheck) Hole() bool { return len(c.Open) > 0 || c.Err != nil }

// Add is the text to append to the default policy to close the hole.
func (c DefaultPolicyCheck) Add() string { return DefaultPolicyLeaseDeny(c.Mounts) }

// CheckDefaultPolicy reads text, Vault's default policy (HCL or JSON), and
// reports for which of renewPaths and the leases of the engines at mounts
// it grants renewal by body. For each path, the rules that decide are the
// blocks of that exact path (Vault merges them), else every glob block
// matching it (Vault takes the most specific one; taking all errs on the
// side of a warning). A path is open when those rules grant update (and
// none deny) and their denied_parameters do not deny "*", nor lease_id
// for every value (an empty list) or for a glob covering the engine's
// leases. allowed_parameters are not counted: Vault adds the lease ids
// another policy allows to them.
func CheckDefaultPolicy(text string, mounts []string) DefaultPolicyCheck {
	out := DefaultPolicyCheck{Mounts: slices.Clone(mounts)}
	if len(mounts) == 0 {
		return out
	}
	blocks, err := parsePathBlocks(text)
	if err != nil {
		out.Err = err
		return out
	}
	for _, p := range renewPaths {
		var rules []pathBlock
		for _, b := range blocks {
			if b.path == p {
				rules = append(rules, b)
			}
		}
		if len(rules) == 0 {
			for _, b := range blocks {
				if globMatches(b.path, p) {
					rules = append(rules, b)
				}
			}
		}
		if !grantsUpdate(rules) {
			continue
		}
		denied := map[string]*denial{}
		for _, r := range rules {
			for k, d := range r.denied {
				if denied[k] == nil {
					denied[k] = &denial{}
				}
				denied[k].all = denied[k].all || d.all
				denied[k].values = append(denied[k].values, d.values...)
			}
		}
		if denied["*"] != nil {
			continue // every parameter denied, whatever its value
		}
		for _, m := range mounts {
			g := LeaseGlob(m)
			if d := denied["lease_id"]; d != nil && (d.all || slices.ContainsFunc(d.values, func(v cty.Value) bool { return coversGlob(v, g) })) {
				continue
			}
			out.Open = append(out.Open, p+" for "+g)
		}
	}
	return out
}

// pathBlock is what CheckDefaultPolicy reads of a path block.
type pathBlock struct {
	path   string
	caps   []string
	policy string
	denied map[string]*denial // keys lower-cased, as Vault does
}

// denial is a parameter's denied values; all: every value (an empty
// list, which wins over any list of values when Vault merges rules).
type denial struct {
	all    bool
	values []cty.Value
}

// parsePathBlocks reads the path blocks of a Vault policy: HCL (Vault
// writes the default policy so) or JSON.
func parsePathBlocks(text string) ([]pathBlock, error) {
	var body hcl.Body
	var diags hcl.Diagnostics
	if strings.HasPrefix(strings.TrimSpace(text), "{") {
		var f *hcl.File
		f, diags = hcljson.Parse([]byte(text), "default")
		if f != nil {
			body = f.Body
		}
	} else {
		var f *hcl.File
		f, diags = hclsyntax.ParseConfig([]byte(text), "default", hcl.Pos{Line: 1, Column: 1})
		if f != nil {
			body = f.Body
		}
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("could not parse the policy: %s", diags.Error())
	}
	content, _, diags := body.PartialContent(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "path", LabelNames: []string{"path"}}}})
	if diags.HasErrors() {
		return nil, fmt.Errorf("could not read the policy's path blocks: %s", diags.Error())
	}
	var out []pathBlock
	for _, b := range content.Blocks {
		pb, err := readPathBlock(b)
		if err != nil {
			return nil, fmt.Errorf("path %q: %w", b.Labels[0], err)
		}
		out = append(out, pb)
	}
	return out, nil
}

func readPathBlock(b *hcl.Block) (pathBlock, error) {
	pb := pathBlock{path: strings.TrimPrefix(b.Labels[0], "/"), denied: map[string]*denial{}}
	schema := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "capabilities"}, {Name: "policy"}, {Name: "denied_parameters"}}}
	if sb, ok := b.Body.(*hclsyntax.Body); ok {
		// The block form Vault's HCL 1 also takes: denied_parameters { ... }.
		for _, inner := range sb.Blocks {
			if inner.Type != "denied_parameters" {
				continue
			}
			for name, at := range inner.Body.Attributes {
				if err := addDenied(pb.denied, name, at.Expr); err != nil {
					return pb, err
				}
			}
		}
	}
	content, _, diags := b.Body.PartialContent(schema)
	if diags.HasErrors() {
		return pb, errors.New(diags.Error())
	}
	if at := content.Attributes["capabilities"]; at != nil {
		v, d := at.Expr.Value(nil)
		if d.HasErrors() || !v.CanIterateElements() {
			return pb, errors.New("capabilities is not a list")
		}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.Type() != cty.String || e.IsNull() {
				return pb, errors.New("capabilities is not a list of strings")
			}
			pb.caps = append(pb.caps, strings.ToLower(e.AsString()))
		}
	}
	if at := content.Attributes["policy"]; at != nil {
		v, d := at.Expr.Value(nil)
		if d.HasErrors() || v.Type() != cty.String || v.IsNull() {
			return pb, errors.New("policy is not a string")
		}
		pb.policy = strings.ToLower(v.AsString())
	}
	if at := content.Attributes["denied_parameters"]; at != nil {
		v, d := at.Expr.Value(nil)
		if d.HasErrors() || !(v.Type().IsObjectType() || v.Type().IsMapType()) || v.IsNull() {
			return pb, errors.New("denied_parameters is not a map")
		}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if err := addDeniedValue(pb.denied, k.AsString(), e); err != nil {
				return pb, err
			}
		}
	}
	return pb, nil
}

func addDenied(m map[string]*denial, name string, expr hcl.Expression) error {
	v, d := expr.Value(nil)
	if d.HasErrors() {
		return errors.New(d.Error())
	}
	return addDeniedValue(m, name, v)
}

// addDeniedValue notes that parameter name is denied for the values of
// list v (an empty list: for every value).
func addDeniedValue(m map[string]*denial, name string, v cty.Value) error {
	if v.IsNull() || !v.CanIterateElements() {
		return fmt.Errorf("denied_parameters %q is not a list", name)
	}
	key := strings.ToLower(name)
	if m[key] == nil {
		m[key] = &denial{}
	}
	if v.LengthInt() == 0 {
		m[key].all = true
	}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		m[key].values = append(m[key].values, e)
	}
	return nil
}

// grantsUpdate reports whether the merged rules let a request update the
// path: the update capability (or the old policy "write" or "sudo"), and
// no deny.
func grantsUpdate(rules []pathBlock) bool {
	update := false
	for _, r := range rules {
		if r.policy == "deny" || slices.Contains(r.caps, "deny") {
			return false
		}
		if slices.Contains(r.caps, "update") || r.policy == "write" || r.policy == "sudo" {
			update = true
		}
	}
	return update
}

// globMatches reports whether the path rule pattern (a trailing "*" for
// any rest, "+" for one segment) matches path.
func globMatches(pattern, path string) bool {
	prefix, glob := strings.CutSuffix(pattern, "*")
	pp, ps := strings.Split(prefix, "/"), strings.Split(path, "/")
	if !glob && len(pp) != len(ps) {
		return false
	}
	if len(pp) > len(ps) {
		return false
	}
	for i, seg := range pp {
		last := i == len(pp)-1
		switch {
		case seg == "+" && !(last && glob):
		case seg == "+":
		case last && glob:
			if !strings.HasPrefix(ps[i], seg) {
				return false
			}
		case seg != ps[i]:
			return false
		}
	}
	return true
}

// coversGlob reports whether the denied value v matches every lease id
// that glob ("nomad/creds/*") matches, as Vault compares a parameter with
// a denied value (a leading and/or trailing "*"; a bare "*" is only the
// string "*").
func coversGlob(v cty.Value, glob string) bool {
	if v.IsNull() || v.Type() != cty.String {
		return false
	}
	item := v.AsString()
	prefix := strings.TrimSuffix(glob, "*")
	if len(item) < 2 {
		return false
	}
	head, tail := strings.HasPrefix(item, "*"), strings.HasSuffix(item, "*")
	switch {
	case head && tail:
		return strings.Contains(prefix, item[1:len(item)-1])
	case tail:
		return strings.HasPrefix(prefix, item[:len(item)-1])
	}
	return false
}
