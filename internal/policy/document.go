package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// The policy languages of Vault 1.13, Nomad 1.6 and Consul 1.16 (OSS), as
// the servers' own parsers accept them: which blocks, labels, attributes
// and values may appear. A document that passes here is one the server
// accepts; the rules come from each system's ACL policy reference.

type valueKind int

const (
	kindString   valueKind = iota // a string, optionally from enum
	kindList                      // a list of strings, each from enum when set
	kindDuration                  // a Go/Vault duration string
	kindAny                       // any literal value (Vault's parameter maps)
)

type docValue struct {
	kind valueKind
	enum []string
}

type docBlock struct {
	labels int // 0 or 1
	attrs  map[string]docValue
	blocks map[string]*docBlock
	// needOne: at least one of these attributes must be set.
	needOne []string
}

var (
	vaultCaps = []string{"create", "read", "update", "patch", "delete", "list", "sudo", "deny"}
	rwd       = []string{"read", "write", "deny"}
	rwdList   = []string{"read", "write", "deny", "list"}

	vaultDoc = &docBlock{blocks: map[string]*docBlock{
		"path": {labels: 1, needOne: []string{"capabilities", "policy"}, attrs: map[string]docValue{
			"capabilities":        {kind: kindList, enum: vaultCaps},
			"policy":              {kind: kindString, enum: []string{"deny", "read", "write", "sudo"}},
			"allowed_parameters":  {kind: kindAny},
			"denied_parameters":   {kind: kindAny},
			"required_parameters": {kind: kindList},
			"min_wrapping_ttl":    {kind: kindDuration},
			"max_wrapping_ttl":    {kind: kindDuration},
			"mfa_methods":         {kind: kindList},
		}},
	}}

	nomadNamespaceCaps = []string{"deny", "list-jobs", "parse-job", "read-job", "submit-job", "dispatch-job",
		"read-logs", "read-fs", "alloc-exec", "alloc-lifecycle", "alloc-node-exec", "csi-write-volume",
		"csi-mount-volume", "csi-read-volume", "csi-list-volume", "csi-register-plugin",
		"list-scaling-policies", "read-scaling-policy", "read-job-scaling", "scale-job",
		"sentinel-override", "submit-recommendation"}
	nomadSimple = &docBlock{needOne: []string{"policy"}, attrs: map[string]docValue{"policy": {kind: kindString, enum: rwd}}}
	nomadDoc    = &docBlock{blocks: map[string]*docBlock{
		"namespace": {labels: 1, needOne: []string{"policy", "capabilities"}, attrs: map[string]docValue{
			"policy":       {kind: kindString, enum: []string{"deny", "read", "write", "scale"}},
			"capabilities": {kind: kindList, enum: nomadNamespaceCaps},
		}, blocks: map[string]*docBlock{
			"variables": {blocks: map[string]*docBlock{
				"path": {labels: 1, needOne: []string{"capabilities"}, attrs: map[string]docValue{
					"capabilities": {kind: kindList, enum: []string{"write", "read", "destroy", "list", "deny"}},
				}},
			}},
		}},
		"node":     nomadSimple,
		"agent":    nomadSimple,
		"operator": nomadSimple,
		"quota":    nomadSimple,
		"plugin":   {needOne: []string{"policy"}, attrs: map[string]docValue{"policy": {kind: kindString, enum: []string{"deny", "read", "list"}}}},
		"node_pool": {labels: 1, needOne: []string{"policy", "capabilities"}, attrs: map[string]docValue{
			"policy":       {kind: kindString, enum: rwd},
			"capabilities": {kind: kindList, enum: []string{"deny", "read", "write", "delete"}},
		}},
		"host_volume": {labels: 1, needOne: []string{"policy", "capabilities"}, attrs: map[string]docValue{
			"policy":       {kind: kindString, enum: rwd},
			"capabilities": {kind: kindList, enum: []string{"deny", "mount-readonly", "mount-readwrite"}},
		}},
	}}

	consulRule    = &docBlock{labels: 1, needOne: []string{"policy"}, attrs: map[string]docValue{"policy": {kind: kindString, enum: rwd}}}
	consulKeyRule = &docBlock{labels: 1, needOne: []string{"policy"}, attrs: map[string]docValue{"policy": {kind: kindString, enum: rwdList}}}
	consulSvcRule = &docBlock{labels: 1, needOne: []string{"policy", "intentions"}, attrs: map[string]docValue{"policy": {kind: kindString, enum: rwd}, "intentions": {kind: kindString, enum: rwd}}}
	consulTopRWD  = docValue{kind: kindString, enum: rwd}
	consulDoc     = &docBlock{attrs: map[string]docValue{"acl": consulTopRWD, "keyring": consulTopRWD, "operator": consulTopRWD, "mesh": consulTopRWD, "peering": consulTopRWD},
		blocks: map[string]*docBlock{
			"agent": consulRule, "agent_prefix": consulRule, "event": consulRule, "event_prefix": consulRule,
			"key": consulKeyRule, "key_prefix": consulKeyRule, "node": consulRule, "node_prefix": consulRule,
			"query": consulRule, "query_prefix": consulRule, "service": consulSvcRule, "service_prefix": consulSvcRule,
			"session": consulRule, "session_prefix": consulRule,
		}}
)

// CheckDocument checks a parsed ACL policy document of system ("vault",
// "nomad" or "consul") against that system's policy language.
func CheckDocument(system string, body *hclsyntax.Body) hcl.Diagnostics {
	var spec *docBlock
	switch system {
	case "vault":
		spec = vaultDoc
	case "nomad":
		spec = nomadDoc
	case "consul":
		spec = consulDoc
	default:
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unknown system", Detail: system}}
	}
	var diags hcl.Diagnostics
	checkBody(system, spec, body, &diags)
	if len(body.Attributes) == 0 && len(body.Blocks) == 0 {
		rng := body.Range()
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Empty policy",
			Detail: fmt.Sprintf("a %s policy document must grant or deny something", title(system)), Subject: &rng})
	}
	return diags
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

func checkBody(system string, spec *docBlock, body *hclsyntax.Body, diags *hcl.Diagnostics) {
	add := func(rng hcl.Range, summary, format string, args ...any) {
		*diags = append(*diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()})
	}
	for _, name := range sortedKeys(body.Attributes) {
		at := body.Attributes[name]
		want, ok := spec.attrs[name]
		if !ok {
			add(at.NameRange, "Unsupported argument", "%s policies take no %q here%s", title(system), name, hint(name, keys(spec.attrs)))
			continue
		}
		checkValue(system, name, want, at, add)
	}
	for _, b := range body.Blocks {
		sub, ok := spec.blocks[b.Type]
		if !ok {
			add(b.TypeRange, "Unsupported block type", "%s policies have no %q block here%s", title(system), b.Type, hint(b.Type, keys(spec.blocks)))
			continue
		}
		if len(b.Labels) != sub.labels {
			rng := b.TypeRange
			if len(b.LabelRanges) > 0 {
				rng = b.LabelRanges[0]
			}
			if sub.labels == 1 {
				add(rng, "Missing label", "a %q block takes one label, e.g. %s \"name\" { ... }", b.Type, b.Type)
			} else {
				add(rng, "Extraneous label", "a %q block takes no label", b.Type)
			}
			continue
		}
		checkBody(system, sub, b.Body, diags)
		if len(sub.needOne) > 0 && !slices.ContainsFunc(sub.needOne, func(k string) bool { _, ok := b.Body.Attributes[k]; return ok }) {
			add(b.TypeRange, "Missing argument", "a %q block needs %s", b.Type, strings.Join(sub.needOne, " or "))
		}
	}
}

func checkValue(system, name string, want docValue, at *hclsyntax.Attribute, add func(hcl.Range, string, string, ...any)) {
	v, d := at.Expr.Value(nil)
	if d.HasErrors() {
		add(at.Expr.Range(), "Invalid value", "%s must be a literal value", name)
		return
	}
	if v.IsNull() || !v.IsWhollyKnown() {
		add(at.Expr.Range(), "Invalid value", "%s must be a literal value", name)
		return
	}
	switch want.kind {
	case kindAny:
		return
	case kindString, kindDuration:
		if v.Type() != cty.String {
			add(at.Expr.Range(), "Invalid value", "%s must be a string", name)
			return
		}
		s := v.AsString()
		if want.kind == kindDuration {
			if _, err := time.ParseDuration(s); err != nil {
				add(at.Expr.Range(), "Invalid value", "%s: %q is not a duration", name, s)
			}
			return
		}
		if want.enum != nil && !slices.Contains(want.enum, s) {
			add(at.Expr.Range(), "Invalid value", "%s %s %q is not one of %s", title(system), name, s, strings.Join(want.enum, ", "))
		}
	case kindList:
		if !v.Type().IsTupleType() && !v.Type().IsListType() {
			add(at.Expr.Range(), "Invalid value", "%s must be a list of strings", name)
			return
		}
		elems, _ := hcl.ExprList(at.Expr)
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			_, ev := it.Element()
			rng := at.Expr.Range()
			if i < len(elems) {
				rng = elems[i].Range()
			}
			if ev.IsNull() || ev.Type() != cty.String {
				add(rng, "Invalid value", "%s must be a list of strings", name)
				continue
			}
			if want.enum != nil && !slices.Contains(want.enum, ev.AsString()) {
				add(rng, "Invalid value", "%s %s %q is not one of %s", title(system), singular(name), ev.AsString(), strings.Join(want.enum, ", "))
			}
		}
	}
}

func singular(name string) string {
	if s, ok := strings.CutSuffix(name, "ies"); ok {
		return s + "y"
	}
	return strings.TrimSuffix(name, "s")
}

// hint suggests the option got was probably meant to be.
func hint(got string, options []string) string {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "-", "_")) }
	best := ""
	for _, o := range options {
		switch {
		case norm(o) == norm(got):
			return fmt.Sprintf("; did you mean %q?", o)
		case (strings.HasPrefix(norm(o), norm(got)) || strings.HasPrefix(norm(got), norm(o))) && len(o) > len(best):
			best = o
		}
	}
	if best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	if len(options) == 0 {
		return ""
	}
	return "; want one of " + strings.Join(options, ", ")
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedKeys(m hclsyntax.Attributes) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
