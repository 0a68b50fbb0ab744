package agent

import (
	"net/http"
	"strings"
)

// A read-only profile in the web UIs. The guard refuses every write of a
// read-only profile (internal/agent/guard); the UIs, though, decide what
// to offer from the token's rights, which allow writes. So that a
// read-only session looks read-only (no Create, Save, Delete, Run, Stop),
// the agent rewrites, for a browser session of a read-only profile only,
// the answers the UIs read their rights from:
//
//   - Consul 1.16 (ui/packages/consul-ui, services/repository/
//     permission.js and abilities/*.js): POST /v1/internal/acl/authorize
//     answers a list of {Resource, Segment, Access, Allow}; every entry
//     whose Access is not a read ("read", "list") gets Allow = false,
//     as for a token without write rights.
//   - Nomad 1.6.1 (ui/app/abilities/abstract.js, services/token.js): a
//     management token may do everything, else the abilities are the
//     namespaces' capabilities in the self token's policies' RulesJSON.
//     The self token's Type "management" becomes "client" and every
//     policy's rules are cut to their reads (policy "read", read
//     capabilities only), so the UI offers what the guard lets through.
//
// These are the UI's view only: the guard still refuses the writes,
// whatever a page sends, and its refusal (403, text) is what a write
// attempted anyway gets.

// readOnlyUIAnswer rewrites resp, the answer to a read-only browser
// session's request to server kind, as above.
func readOnlyUIAnswer(kind Kind, resp *http.Response) error {
	if resp.Request == nil || resp.Request.URL == nil {
		return nil
	}
	m, p := resp.Request.Method, resp.Request.URL.Path
	switch {
	case kind == Consul && m == http.MethodPost && p == "/v1/internal/acl/authorize":
		return rewriteJSON(resp, denyConsulWrites)
	case kind == Nomad && m == http.MethodGet && p == "/v1/acl/token/self":
		return rewriteJSON(resp, func(v any) {
			if t, ok := v.(map[string]any); ok && t["Type"] == "management" {
				t["Type"] = "client"
			}
		})
	case kind == Nomad && m == http.MethodGet && strings.HasPrefix(p, "/v1/acl/policy/"):
		return rewriteJSON(resp, readOnlyNomadPolicy)
	}
	return nil
}

// denyConsulWrites sets Allow = false on every authorization of v (a
// list) that is not a read.
func denyConsulWrites(v any) {
	list, _ := v.([]any)
	for _, e := range list {
		a, ok := e.(map[string]any)
		if !ok {
			continue
		}
		if acc, _ := a["Access"].(string); acc != "read" && acc != "list" {
			a["Allow"] = false
		}
	}
}

// nomadReadCapabilities are the namespace capabilities of Nomad 1.6.1
// (acl/policy.go) that only read.
var nomadReadCapabilities = map[string]bool{
	"list-jobs": true, "parse-job": true, "read-job": true, "read-logs": true, "read-fs": true,
	"read-job-scaling": true, "list-scaling-policies": true, "read-scaling-policy": true,
	"csi-list-volume": true, "csi-read-volume": true,
}

// readOnlyNomadPolicy cuts v, a Nomad policy answer, to its reads: in
// RulesJSON, every Policy other than "deny" becomes "read" (namespaces,
// host volumes, node, agent, operator, quota, plugin), every namespace
// capability that is not a read is dropped, and variables' write and
// destroy capabilities too. Rules, the HCL text, is left as the admin
// wrote it (the UI shows it; the abilities read RulesJSON).
func readOnlyNomadPolicy(v any) {
	pol, ok := v.(map[string]any)
	if !ok {
		return
	}
	rules, ok := pol["RulesJSON"].(map[string]any)
	if !ok {
		return
	}
	for _, k := range []string{"Namespaces", "HostVolumes"} {
		list, _ := rules[k].([]any)
		for _, e := range list {
			ns, ok := e.(map[string]any)
			if !ok {
				continue
			}
			readOnlyPolicyField(ns)
			if caps, ok := ns["Capabilities"].([]any); ok {
				kept := []any{}
				for _, c := range caps {
					if s, _ := c.(string); nomadReadCapabilities[s] {
						kept = append(kept, c)
					}
				}
				ns["Capabilities"] = kept
			}
			if vars, ok := ns["Variables"].(map[string]any); ok {
				paths, _ := vars["Paths"].([]any)
				for _, pe := range paths {
					if pm, ok := pe.(map[string]any); ok {
						if caps, ok := pm["Capabilities"].([]any); ok {
							kept := []any{}
							for _, c := range caps {
								if s, _ := c.(string); s == "read" || s == "list" || s == "deny" {
									kept = append(kept, c)
								}
							}
							pm["Capabilities"] = kept
						}
					}
				}
			}
		}
	}
	for _, k := range []string{"Node", "Agent", "Operator", "Quota", "Plugin", "NodePool"} {
		if m, ok := rules[k].(map[string]any); ok {
			readOnlyPolicyField(m)
		}
	}
	if list, ok := rules["NodePools"].([]any); ok {
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				readOnlyPolicyField(m)
			}
		}
	}
}

// readOnlyPolicyField: m's Policy, when set and not "deny" or "read"
// ("write", "scale", "list"...), becomes "read" ("list" stays).
func readOnlyPolicyField(m map[string]any) {
	if s, ok := m["Policy"].(string); ok && s != "" && s != "deny" && s != "read" && s != "list" {
		m["Policy"] = "read"
	}
}
