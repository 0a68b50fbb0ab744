package guard

import (
	"slices"
	"strings"

	"github.com/alisw/alilogin/internal/store"
)

// Route is one entry of a read-only allow-list: a method set and a path
// pattern. A pattern's segments are literal, "*" (exactly one non-empty
// segment) or, last, "**" (zero or more segments, a trailing slash
// included). Matching is exact and case-sensitive, as the servers match.
type Route struct {
	Methods []string
	Pattern string
}

var (
	get  = []string{"GET", "HEAD"}
	post = []string{"POST", "PUT"}
)

// nomadRead is what `nomad status`, `nomad job status`, `nomad job plan`,
// `nomad alloc logs [-f]`, `nomad alloc status`, `nomad node status` and
// the web UI's read views call (Nomad 1.6.1 api/ and ui/ adapters). Not
// here, though they are GETs: /v1/client/allocation/:id/exec (a websocket
// that runs a command), .../gc and .../restart (allocGC and allocRestart
// take any method), .../snapshot, /v1/client/gc (any method), the agent's
// pprof.
var nomadRead = []Route{
	{get, "/v1/jobs"}, {get, "/v1/job/**"},
	{post, "/v1/job/*/plan"}, {post, "/v1/jobs/parse"}, {post, "/v1/validate/job"},
	{post, "/v1/search"}, {post, "/v1/search/fuzzy"},
	{get, "/v1/nodes"}, {get, "/v1/node/**"},
	{get, "/v1/allocations"}, {get, "/v1/allocation/**"},
	{get, "/v1/evaluations"}, {get, "/v1/evaluations/count"}, {get, "/v1/evaluation/**"},
	{get, "/v1/deployments"}, {get, "/v1/deployment/**"},
	{get, "/v1/volumes"}, {get, "/v1/volumes/external"}, {get, "/v1/volumes/snapshot"}, {get, "/v1/volume/csi/**"},
	{get, "/v1/plugins"}, {get, "/v1/plugin/csi/**"},
	{get, "/v1/acl/token/self"}, {get, "/v1/acl/tokens"}, {get, "/v1/acl/token/*"},
	{get, "/v1/acl/policies"}, {get, "/v1/acl/policy/*"}, {get, "/v1/acl/roles"}, {get, "/v1/acl/role/**"},
	{get, "/v1/acl/auth-methods"}, {get, "/v1/acl/auth-method/*"}, {get, "/v1/acl/binding-rules"}, {get, "/v1/acl/binding-rule/*"},
	{get, "/v1/client/fs/**"}, {get, "/v1/client/stats"}, {get, "/v1/client/metadata"},
	{get, "/v1/client/allocation/*/stats"}, {get, "/v1/client/allocation/*/checks"},
	{get, "/v1/agent/self"}, {get, "/v1/agent/members"}, {get, "/v1/agent/servers"}, {get, "/v1/agent/health"},
	{get, "/v1/agent/host"}, {get, "/v1/agent/schedulers"}, {get, "/v1/agent/schedulers/config"},
	{get, "/v1/services"}, {get, "/v1/service/**"},
	{get, "/v1/vars"}, {get, "/v1/var/**"},
	{get, "/v1/namespaces"}, {get, "/v1/namespace/*"},
	{get, "/v1/regions"}, {get, "/v1/metrics"}, {get, "/v1/event/stream"},
	{get, "/v1/status/leader"}, {get, "/v1/status/peers"},
	{get, "/v1/scaling/policies"}, {get, "/v1/scaling/policy/*"},
	{get, "/v1/operator/raft/configuration"}, {get, "/v1/operator/autopilot/configuration"},
	{get, "/v1/operator/autopilot/health"}, {get, "/v1/operator/scheduler/configuration"}, {get, "/v1/operator/license"},
	{get, "/v1/node/pools"}, {get, "/v1/node/pool/**"},
}

// consulRead is what `consul kv get [-recurse|-keys]`, `consul catalog
// services|nodes|datacenters`, `consul watch` (key, keyprefix, services,
// nodes, service, checks, event), `consul members`, `consul acl token read
// -self` and the web UI's read views call (Consul 1.16.3 api/ and the UI's
// adapters; the UI's POST /v1/internal/acl/authorize is its permission
// probe). Not here: PUT /v1/txn (reads and writes look alike), the
// agent's monitor and metrics stream.
var consulRead = []Route{
	{get, "/v1/kv/**"},
	{get, "/v1/catalog/**"}, {get, "/v1/health/**"},
	{get, "/v1/event/list"},
	{get, "/v1/agent/self"}, {get, "/v1/agent/members"}, {get, "/v1/agent/services"}, {get, "/v1/agent/service/*"},
	{get, "/v1/agent/checks"}, {get, "/v1/agent/health/service/**"}, {get, "/v1/agent/metrics"},
	{get, "/v1/agent/host"}, {get, "/v1/agent/version"}, {get, "/v1/agent/connect/ca/roots"},
	{get, "/v1/coordinate/**"}, {get, "/v1/status/leader"}, {get, "/v1/status/peers"},
	{get, "/v1/session/info/*"}, {get, "/v1/session/node/*"}, {get, "/v1/session/list"},
	{get, "/v1/query"}, {get, "/v1/query/*"}, {get, "/v1/query/*/execute"}, {get, "/v1/query/*/explain"},
	{get, "/v1/connect/intentions"}, {get, "/v1/connect/intentions/**"}, {get, "/v1/connect/ca/roots"},
	{get, "/v1/config/**"}, {get, "/v1/discovery-chain/*"}, {post, "/v1/discovery-chain/*"},
	{get, "/v1/internal/ui/**"}, {post, "/v1/internal/acl/authorize"},
	{get, "/v1/acl/token/self"}, {get, "/v1/acl/tokens"}, {get, "/v1/acl/token/*"},
	{get, "/v1/acl/policies"}, {get, "/v1/acl/policy/*"}, {get, "/v1/acl/policy/name/*"},
	{get, "/v1/acl/roles"}, {get, "/v1/acl/role/*"}, {get, "/v1/acl/role/name/*"},
	{get, "/v1/acl/auth-methods"}, {get, "/v1/acl/auth-method/*"}, {get, "/v1/acl/binding-rules"},
	{get, "/v1/acl/binding-rule/*"}, {get, "/v1/acl/replication"},
	{get, "/v1/namespaces"}, {get, "/v1/namespace/*"}, {get, "/v1/partitions"}, {get, "/v1/partition/*"},
	{get, "/v1/peerings"}, {get, "/v1/peering/*"}, {get, "/v1/exported-services"},
	{get, "/v1/operator/raft/configuration"}, {get, "/v1/operator/autopilot/**"}, {get, "/v1/operator/usage"},
	{get, "/v1/operator/license"},
}

// vaultReadPost are Vault's reads that use POST or PUT: `vault token
// lookup` of another token or accessor, `vault token capabilities`, `vault
// lease lookup`, the wrapping-token lookup. Vault's other reads are GET,
// LIST (or GET with ?list=true) and HEAD on any path, except those that
// mint a credential on read (vaultMints).
var vaultReadPost = []Route{
	{post, "/v1/auth/token/lookup"}, {post, "/v1/auth/token/lookup-self"}, {post, "/v1/auth/token/lookup-accessor"},
	{post, "/v1/sys/capabilities"}, {post, "/v1/sys/capabilities-self"}, {post, "/v1/sys/capabilities-accessor"},
	{post, "/v1/sys/wrapping/lookup"}, {post, "/v1/sys/leases/lookup"},
}

// ReadOnlyRoutes is the read-only allow-list of server, for
// documentation and tests. Vault's adds GET, HEAD and LIST on every path
// but the minting reads (see readAllowed).
func ReadOnlyRoutes(server store.Kind) []Route {
	switch server {
	case store.Nomad:
		return slices.Clone(nomadRead)
	case store.Consul:
		return slices.Clone(consulRead)
	case store.Vault:
		return append([]Route{{[]string{"GET", "HEAD", "LIST"}, "/v1/**"}}, vaultReadPost...)
	}
	return nil
}

// readAllowed: the request (canonical path p) is on server's read-only
// allow-list.
func readAllowed(server store.Kind, method, p string) bool {
	switch server {
	case store.Nomad:
		return anyRoute(nomadRead, method, p)
	case store.Consul:
		return anyRoute(consulRead, method, p)
	case store.Vault:
		switch method {
		case "GET", "HEAD", "LIST":
			return !vaultMints(p)
		}
		return anyRoute(vaultReadPost, method, p)
	}
	return false
}

// vaultMints: a Vault read that makes a credential (a lease): a secrets
// engine's creds/ or sts/ path right under a one-segment mount
// (database/creds/R, aws/sts/R, nomad/creds/R), and
// identity/oidc/token/R. A KV version 1 mount with a top-level folder
// named creds reads as a write here; KV version 2 paths
// (<mount>/data/...) do not.
func vaultMints(p string) bool {
	segs := strings.Split(strings.TrimPrefix(p, "/v1/"), "/")
	if len(segs) >= 2 && (segs[1] == "creds" || segs[1] == "sts") {
		return true
	}
	return strings.HasPrefix(p, "/v1/identity/oidc/token/")
}

func anyRoute(routes []Route, method, p string) bool {
	for _, r := range routes {
		if slices.Contains(r.Methods, method) && match(r.Pattern, p) {
			return true
		}
	}
	return false
}

// match: p (canonical, starting with /) matches pattern.
func match(pattern, p string) bool {
	ps := strings.Split(pattern[1:], "/")
	xs := strings.Split(p[1:], "/")
	for i, s := range ps {
		if s == "**" && i == len(ps)-1 {
			return true
		}
		if i >= len(xs) {
			return false
		}
		switch s {
		case "*":
			if xs[i] == "" {
				return false
			}
		default:
			if xs[i] != s {
				return false
			}
		}
	}
	return len(xs) == len(ps)
}
