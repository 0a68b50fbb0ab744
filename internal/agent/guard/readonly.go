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

// vaultRead is what `vault kv get|list|metadata get` (KV version 2),
// `vault token lookup`, `vault token capabilities`, `vault lease lookup`,
// `vault secrets list`, `vault auth list` and `vault policy list|read`
// call (Vault 1.13 command/ and api/): Vault's reads are not a method
// (its engines mint credentials on GET, PKI's GET crl/rotate rebuilds the
// CRL), so they are a list too. The KV version 2 routes are matched by
// shape, at any mount however deep (<mount...>/data|metadata|subkeys/...):
// a request does not say which engine a mount is, so vaultMints is
// checked on top of them. Not here: KV version 1 (its paths have no
// shape: any path of its mount), any other engine's reads.
var vaultRead = []Route{
	{get, "/v1/sys/internal/ui/mounts"}, {get, "/v1/sys/internal/ui/mounts/**"},
	{get, "/v1/auth/token/lookup-self"},
	{post, "/v1/auth/token/lookup"}, {post, "/v1/auth/token/lookup-self"}, {post, "/v1/auth/token/lookup-accessor"},
	{post, "/v1/sys/capabilities"}, {post, "/v1/sys/capabilities-self"}, {post, "/v1/sys/capabilities-accessor"},
	{post, "/v1/sys/wrapping/lookup"}, {post, "/v1/sys/leases/lookup"},
	{get, "/v1/sys/mounts"}, {get, "/v1/sys/auth"},
	{vaultList, "/v1/sys/policies/acl"}, {get, "/v1/sys/policies/acl/*"}, {vaultList, "/v1/sys/policy"}, {get, "/v1/sys/policy/*"},
	{get, "/v1/sys/health"}, {get, "/v1/sys/seal-status"}, {get, "/v1/sys/leader"},
}

// vaultList: a read that may also be a LIST (Vault 1.13 also reads
// GET ?list=true as a list).
var vaultList = []string{"GET", "HEAD", "LIST"}

// vaultKV2 are the KV version 2 paths, after a mount of one or more
// segments: data/:path (kv get), metadata/:path (kv list, kv metadata
// get), subkeys/:path.
var vaultKV2 = map[string]bool{"data": true, "metadata": true, "subkeys": true}

// ReadOnlyRoutes is the read-only allow-list of server, for
// documentation and tests. Vault's adds GET, HEAD and LIST of KV version
// 2 paths at any mount ("/v1/**/data|metadata|subkeys/**"), except those
// vaultMints refuses (see readAllowed).
func ReadOnlyRoutes(server store.Kind) []Route {
	switch server {
	case store.Nomad:
		return slices.Clone(nomadRead)
	case store.Consul:
		return slices.Clone(consulRead)
	case store.Vault:
		routes := slices.Clone(vaultRead)
		for _, k := range []string{"data", "metadata", "subkeys"} {
			routes = append(routes, Route{vaultList, "/v1/**/" + k + "/**"})
		}
		return routes
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
		if vaultMints(p) {
			return false
		}
		return anyRoute(vaultRead, method, p) || (slices.Contains(vaultList, method) && vaultKV2Path(p))
	}
	return false
}

// vaultKV2Path: p is <mount...>/data|metadata|subkeys[/...] with a mount
// of at least one segment.
func vaultKV2Path(p string) bool {
	segs := strings.Split(strings.TrimPrefix(p, "/v1/"), "/")
	for i := 1; i < len(segs); i++ {
		if vaultKV2[segs[i]] {
			return true
		}
	}
	return false
}

// vaultMints: the shapes of Vault reads that make a credential or change
// state, at any mount however deep (lower case, as the secret rules):
// <mount...>/creds/:role (database, nomad, consul, AWS, SSH...),
// <mount...>/sts/:role (AWS), the GCP engine's roleset/:name/token|key,
// static-account/:name/token|key, impersonated-account/:name/token and
// its older token/:roleset and key/:roleset, PKI's crl/rotate and
// crl/rotate-delta (rebuild the CRL on GET), identity/oidc/token/:role.
// They are refused even when the mount's path looks like KV version 2
// (a database engine at team/data is team/data/creds/R).
func vaultMints(p string) bool {
	segs := strings.Split(strings.TrimSuffix(lower(strings.TrimPrefix(p, "/v1/")), "/"), "/")
	n := len(segs)
	for i := 1; i < n && segs[0] != "sys"; i++ {
		s, rest := segs[i], n-1-i
		switch {
		case (s == "creds" || s == "sts") && rest == 1:
			return true
		case (s == "roleset" || s == "static-account" || s == "impersonated-account") && rest == 2 &&
			(segs[n-1] == "token" || segs[n-1] == "key"):
			return true
		case (s == "token" || s == "key") && rest == 1 && segs[0] != "auth" && segs[0] != "sys" && segs[0] != "identity":
			// GCP's token/:roleset and key/:roleset (deprecated, still
			// routed in 1.13).
			return true
		case s == "crl" && rest == 1 && strings.HasPrefix(segs[n-1], "rotate"):
			return true
		}
	}
	return strings.HasPrefix(strings.Join(segs, "/"), "identity/oidc/token/")
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
