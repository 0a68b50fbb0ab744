package policy

// hclvalues.go: typed readers of literal HCL attribute values (strings,
// booleans, addresses, mounts, durations, lists), each recording a
// diagnostic at the value on a wrong type or an invalid value.

import (
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/alisw/alilogin/internal/config/check"
)

// attrs decodes b's body, which may hold only the given attributes.
func (l *loader) attrs(b *hcl.Block, schema []hcl.AttributeSchema) hcl.Attributes {
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: schema})
	l.diags = append(l.diags, diags...)
	if content == nil {
		return hcl.Attributes{}
	}
	return content.Attributes
}

// value evaluates a literal expression (no variables, no functions).
func (l *loader) value(at *hcl.Attribute) (cty.Value, bool) {
	v, diags := at.Expr.Value(nil)
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if v.IsNull() || !v.IsWhollyKnown() {
		l.errorf(at.Expr.Range().Ptr(), "Invalid value", "%s must be set to a literal value", at.Name)
		return cty.NilVal, false
	}
	return v, true
}

// typed reads attribute name as a literal of type ty; false when it is
// absent or not such a literal (reported, as "name must be <what>").
func (l *loader) typed(a hcl.Attributes, name string, ty cty.Type, what string) (cty.Value, *hcl.Attribute, bool) {
	at := a[name]
	if at == nil {
		return cty.NilVal, nil, false
	}
	v, ok := l.value(at)
	if !ok {
		return cty.NilVal, at, false
	}
	if v.Type() != ty {
		l.errorf(at.Expr.Range().Ptr(), "Invalid value", "%s must be %s", name, what)
		return cty.NilVal, at, false
	}
	return v, at, true
}

func (l *loader) str(a hcl.Attributes, name, def string) string {
	v, at, ok := l.typed(a, name, cty.String, "a string")
	if !ok {
		return def
	}
	s := v.AsString()
	if strings.TrimSpace(s) == "" {
		l.errorf(at.Expr.Range().Ptr(), "Invalid value", "%s must not be empty", name)
		return def
	}
	return s
}

func (l *loader) boolean(a hcl.Attributes, name string) bool {
	v, _, ok := l.typed(a, name, cty.Bool, "true or false")
	return ok && v.True()
}

// addr reads and checks an address; consul's may be HOST:PORT, as in
// CONSUL_HTTP_ADDR (check.ConsulAddress).
func (l *loader) addr(a hcl.Attributes, name string, consul bool) string {
	s := l.str(a, name, "")
	if consul {
		s = check.ConsulAddress(s, false)
	}
	if s != "" {
		s = check.Normalize(s)
		if err := checkAddress(s, l.boolean(a, "insecure_http")); err != nil {
			l.errorf(a[name].Expr.Range().Ptr(), "Invalid address", "%v", err)
		}
	}
	return s
}

func (l *loader) mount(a hcl.Attributes, name, def string) string {
	s := l.str(a, name, def)
	if s != def || a[name] != nil {
		if err := checkMount(s); err != nil {
			l.errorf(a[name].Expr.Range().Ptr(), "Invalid "+name, "%v", err)
		}
	}
	return strings.Trim(s, "/")
}

func (l *loader) duration(a hcl.Attributes, name string, def time.Duration) time.Duration {
	at := a[name]
	if at == nil {
		return def
	}
	s := l.str(a, name, "")
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		l.errorf(at.Expr.Range().Ptr(), "Invalid "+name, "%q is not a duration (want e.g. 30m, 8h)", s)
		return 0
	case d < time.Second:
		l.errorf(at.Expr.Range().Ptr(), "Invalid "+name, "%q: want at least 1s", s)
		return 0
	case d%time.Second != 0:
		l.errorf(at.Expr.Range().Ptr(), "Invalid "+name, "%q: want whole seconds", s)
		return 0
	}
	return d
}

// emptyList reports whether at is a literal empty list.
func emptyList(at *hcl.Attribute) bool {
	exprs, diags := hcl.ExprList(at.Expr)
	return !diags.HasErrors() && len(exprs) == 0
}

// list returns the elements of a literal list of strings with their ranges.
func (l *loader) list(at *hcl.Attribute) ([]string, []hcl.Range) {
	exprs, diags := hcl.ExprList(at.Expr)
	if diags.HasErrors() {
		l.errorf(at.Expr.Range().Ptr(), "Invalid value", "%s must be a list of strings", at.Name)
		return nil, nil
	}
	var (
		out  []string
		rngs []hcl.Range
	)
	for _, e := range exprs {
		v, d := e.Value(nil)
		l.diags = append(l.diags, d...)
		if d.HasErrors() {
			continue
		}
		if v.IsNull() || !v.IsWhollyKnown() || v.Type() != cty.String {
			l.errorf(e.Range().Ptr(), "Invalid value", "%s must be a list of strings", at.Name)
			continue
		}
		out = append(out, v.AsString())
		rngs = append(rngs, e.Range())
	}
	return out, rngs
}

// uniqueList reads the list attribute name (nil when absent): the values
// valid (nil: any) accepts, each once, in the file's order, with their
// ranges; an invalid value is an "Invalid WHAT" error, a second one a
// "Duplicate WHAT" error.
func (l *loader) uniqueList(a hcl.Attributes, name, what string, valid func(string) error) ([]string, []hcl.Range) {
	at := a[name]
	if at == nil {
		return nil, nil
	}
	vals, rngs := l.list(at)
	var out []string
	var outRngs []hcl.Range
	for i, v := range vals {
		if valid != nil {
			if err := valid(v); err != nil {
				l.errorf(rngs[i].Ptr(), "Invalid "+what, "%v", err)
				continue
			}
		}
		if slices.Contains(out, v) {
			l.errorf(rngs[i].Ptr(), "Duplicate "+what, "%q is listed twice", v)
			continue
		}
		out = append(out, v)
		outRngs = append(outRngs, rngs[i])
	}
	return out, outRngs
}

func (l *loader) roleList(a hcl.Attributes, name string) []string {
	out, _ := l.uniqueList(a, name, "role", CheckRole)
	slices.Sort(out)
	return out
}

// policyList is uniqueList of policy names, each remembered (l.refs) to
// be checked against the policy files of system.
func (l *loader) policyList(a hcl.Attributes, name, system string) []string {
	out, rngs := l.uniqueList(a, name, "policy", nil)
	for i, v := range out {
		l.refs = append(l.refs, policyRef{system: system, name: v, rng: rngs[i]})
	}
	slices.Sort(out)
	return out
}
