package guard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/store"
)

// The calls of the read commands the issue names, as their CLIs and web
// UIs send them (Nomad 1.6.1, Consul 1.16.3, Vault 1.13 api/ packages).
var reads = []struct {
	what           string
	server         store.Kind
	method, target string
}{
	{"nomad status", store.Nomad, "GET", "/v1/jobs?meta=true"},
	{"nomad status prefix", store.Nomad, "PUT", "/v1/search"},
	{"nomad job status", store.Nomad, "GET", "/v1/job/web?namespace=ci"},
	{"nomad job status summary", store.Nomad, "GET", "/v1/job/web/summary"},
	{"nomad job status allocs", store.Nomad, "GET", "/v1/job/web/allocations?all=true"},
	{"nomad job status evals", store.Nomad, "GET", "/v1/job/web/evaluations"},
	{"nomad job status deployment", store.Nomad, "GET", "/v1/job/web/deployment"},
	{"nomad job plan", store.Nomad, "PUT", "/v1/job/web/plan"},
	{"nomad job plan POST", store.Nomad, "POST", "/v1/job/web/plan"},
	{"nomad job validate", store.Nomad, "PUT", "/v1/validate/job"},
	{"nomad job run parse", store.Nomad, "POST", "/v1/jobs/parse"},
	{"nomad alloc logs", store.Nomad, "GET", "/v1/allocation/0b4c4f1e-1111-2222-3333-444455556666"},
	{"nomad alloc logs node", store.Nomad, "GET", "/v1/node/9a0b"},
	{"nomad alloc logs -f", store.Nomad, "GET", "/v1/client/fs/logs/0b4c?follow=true&task=web&type=stdout&origin=start&offset=0"},
	{"nomad alloc fs", store.Nomad, "GET", "/v1/client/fs/ls/0b4c?path=/"},
	{"nomad alloc status stats", store.Nomad, "GET", "/v1/client/allocation/0b4c/stats"},
	{"nomad node status", store.Nomad, "GET", "/v1/nodes"},
	{"nomad ui fuzzy search", store.Nomad, "POST", "/v1/search/fuzzy"},
	{"nomad ui event stream", store.Nomad, "GET", "/v1/event/stream?topic=Job"},
	{"nomad ui token self", store.Nomad, "GET", "/v1/acl/token/self"},
	{"nomad ui policy", store.Nomad, "GET", "/v1/acl/policy/ci"},
	{"nomad ui namespaces", store.Nomad, "GET", "/v1/namespaces"},
	{"nomad ui variables", store.Nomad, "GET", "/v1/vars?prefix=nomad/jobs"},
	{"nomad ui agent", store.Nomad, "GET", "/v1/agent/self"},
	{"nomad ui members", store.Nomad, "GET", "/v1/agent/members"},
	{"nomad ui regions", store.Nomad, "GET", "/v1/regions"},
	{"nomad ui job parse", store.Nomad, "POST", "/v1/jobs/parse?namespace=*"},
	{"nomad ui job plan", store.Nomad, "POST", "/v1/job/web/plan"},
	{"nomad ui job versions", store.Nomad, "GET", "/v1/job/web/versions?diffs=true"},
	{"nomad ui job submission", store.Nomad, "GET", "/v1/job/web/submission?version=2"},
	{"nomad ui license", store.Nomad, "GET", "/v1/operator/license"},
	{"nomad head var", store.Nomad, "HEAD", "/v1/var/nomad/jobs/web"},
	{"consul kv get", store.Consul, "GET", "/v1/kv/ci/key"},
	{"consul kv get -recurse", store.Consul, "GET", "/v1/kv/ci/?recurse="},
	{"consul kv get -keys", store.Consul, "GET", "/v1/kv/ci/?keys=&separator=/"},
	{"consul catalog services", store.Consul, "GET", "/v1/catalog/services"},
	{"consul catalog nodes", store.Consul, "GET", "/v1/catalog/nodes"},
	{"consul catalog datacenters", store.Consul, "GET", "/v1/catalog/datacenters"},
	{"consul catalog nodes -service", store.Consul, "GET", "/v1/catalog/service/web"},
	{"consul watch key", store.Consul, "GET", "/v1/kv/ci/key?index=42&wait=5m"},
	{"consul watch service", store.Consul, "GET", "/v1/health/service/web?passing=1&index=7"},
	{"consul watch checks", store.Consul, "GET", "/v1/health/state/any"},
	{"consul watch event", store.Consul, "GET", "/v1/event/list?name=deploy"},
	{"consul members", store.Consul, "GET", "/v1/agent/members"},
	{"consul ui authorize", store.Consul, "POST", "/v1/internal/acl/authorize"},
	{"consul ui services", store.Consul, "GET", "/v1/internal/ui/services?dc=dc1"},
	{"consul ui nodes", store.Consul, "GET", "/v1/internal/ui/nodes"},
	{"consul ui node", store.Consul, "GET", "/v1/internal/ui/node/n1"},
	{"consul ui topology", store.Consul, "GET", "/v1/internal/ui/service-topology/web"},
	{"consul ui token self", store.Consul, "GET", "/v1/acl/token/self"},
	{"consul ui intentions", store.Consul, "GET", "/v1/connect/intentions"},
	{"consul ui leader", store.Consul, "GET", "/v1/status/leader"},
	{"consul ui coordinates", store.Consul, "GET", "/v1/coordinate/nodes"},
	{"consul ui discovery chain", store.Consul, "POST", "/v1/discovery-chain/web"},
	{"consul ui license", store.Consul, "GET", "/v1/operator/license"},
	{"consul ui autopilot", store.Consul, "GET", "/v1/operator/autopilot/state"},
	{"consul ui oidc methods", store.Consul, "GET", "/v1/internal/ui/oidc-auth-methods?dc=dc1"},
	{"consul ui session", store.Consul, "GET", "/v1/session/node/n1"},
	{"consul ui peerings", store.Consul, "GET", "/v1/peerings"},
	{"consul ui intention exact", store.Consul, "GET", "/v1/connect/intentions/exact?source=a&destination=b"},
	{"consul ui connect catalog", store.Consul, "GET", "/v1/catalog/connect/web"},
	{"vault kv get preflight", store.Vault, "GET", "/v1/sys/internal/ui/mounts/secret/ci"},
	{"vault kv get", store.Vault, "GET", "/v1/secret/data/ci"},
	{"vault kv get deeper mount", store.Vault, "GET", "/v1/team/kv/data/ci"},
	{"vault kv metadata get", store.Vault, "GET", "/v1/secret/metadata/ci"},
	{"vault secrets list", store.Vault, "GET", "/v1/sys/mounts"},
	{"vault policy read", store.Vault, "GET", "/v1/sys/policies/acl/default"},
	{"vault policy list", store.Vault, "LIST", "/v1/sys/policies/acl"},
	{"vault kv list", store.Vault, "LIST", "/v1/secret/metadata/ci/"},
	{"vault kv list GET", store.Vault, "GET", "/v1/secret/metadata/ci/?list=true"},
	{"vault kv named creds", store.Vault, "GET", "/v1/secret/data/ci/creds"},
	{"vault token lookup", store.Vault, "GET", "/v1/auth/token/lookup-self"},
	{"vault token lookup other", store.Vault, "POST", "/v1/auth/token/lookup"},
	{"vault token lookup accessor", store.Vault, "POST", "/v1/auth/token/lookup-accessor"},
	{"vault token capabilities", store.Vault, "POST", "/v1/sys/capabilities-self"},
	{"vault lease lookup", store.Vault, "PUT", "/v1/sys/leases/lookup"},
}

var writes = []struct {
	what           string
	server         store.Kind
	method, target string
}{
	{"nomad job run", store.Nomad, "PUT", "/v1/jobs"},
	{"nomad job run POST", store.Nomad, "POST", "/v1/jobs"},
	{"nomad job stop", store.Nomad, "DELETE", "/v1/job/web"},
	{"nomad job dispatch", store.Nomad, "PUT", "/v1/job/batch/dispatch"},
	{"nomad job revert", store.Nomad, "PUT", "/v1/job/web/revert"},
	{"nomad job scale", store.Nomad, "PUT", "/v1/job/web/scale"},
	{"nomad job eval", store.Nomad, "PUT", "/v1/job/web/evaluate"},
	{"nomad alloc exec", store.Nomad, "GET", "/v1/client/allocation/0b4c/exec?task=web&command=%5B%22sh%22%5D&tty=true"},
	{"nomad alloc restart GET", store.Nomad, "GET", "/v1/client/allocation/0b4c/restart"},
	{"nomad alloc gc GET", store.Nomad, "GET", "/v1/client/allocation/0b4c/gc"},
	{"nomad alloc snapshot", store.Nomad, "GET", "/v1/client/allocation/0b4c/snapshot"},
	{"nomad client gc GET", store.Nomad, "GET", "/v1/client/gc"},
	{"nomad alloc stop", store.Nomad, "POST", "/v1/allocation/0b4c/stop"},
	{"nomad alloc signal", store.Nomad, "POST", "/v1/client/allocation/0b4c/signal"},
	{"nomad node drain", store.Nomad, "PUT", "/v1/node/9a0b/drain"},
	{"nomad system gc", store.Nomad, "PUT", "/v1/system/gc"},
	{"nomad var put", store.Nomad, "PUT", "/v1/var/nomad/jobs/web"},
	{"nomad acl token create", store.Nomad, "PUT", "/v1/acl/token"},
	{"nomad agent pprof", store.Nomad, "GET", "/v1/agent/pprof/heap"},
	{"nomad jobs slash", store.Nomad, "GET", "/v1/jobs/"},
	{"nomad search GET", store.Nomad, "DELETE", "/v1/search"},
	{"consul kv put", store.Consul, "PUT", "/v1/kv/ci/key"},
	{"consul kv delete", store.Consul, "DELETE", "/v1/kv/ci/key"},
	{"consul lock", store.Consul, "PUT", "/v1/session/create"},
	{"consul event fire", store.Consul, "PUT", "/v1/event/fire/deploy"},
	{"consul txn", store.Consul, "PUT", "/v1/txn"},
	{"consul service register", store.Consul, "PUT", "/v1/agent/service/register"},
	{"consul agent reload", store.Consul, "PUT", "/v1/agent/reload"},
	{"consul acl authorize GET", store.Consul, "GET", "/v1/internal/acl/authorize"},
	{"consul token create", store.Consul, "PUT", "/v1/acl/token"},
	{"consul ui peering establish", store.Consul, "POST", "/v1/peering/establish"},
	{"consul ui session destroy", store.Consul, "PUT", "/v1/session/destroy/x"},
	{"vault kv put", store.Vault, "POST", "/v1/secret/data/ci"},
	{"vault kv patch", store.Vault, "PATCH", "/v1/secret/data/ci"},
	{"vault kv delete", store.Vault, "DELETE", "/v1/secret/data/ci"},
	{"vault database creds", store.Vault, "GET", "/v1/database/creds/ro"},
	// KV version 1 has no shape (any path of its mount): the list has no
	// mount to tell it from another engine's read.
	{"vault kv get v1", store.Vault, "GET", "/v1/kv1/ci"},
	{"vault other engine read", store.Vault, "GET", "/v1/transit/keys/ci"},
	{"vault creds under a kv-looking mount", store.Vault, "GET", "/v1/team/data/creds/ro"},
	{"vault aws sts", store.Vault, "GET", "/v1/aws/sts/deploy"},
	{"vault renew-self", store.Vault, "POST", "/v1/auth/token/renew-self"},
	{"vault policy write", store.Vault, "PUT", "/v1/sys/policies/acl/ci"},
}

func TestReadOnlyAllowsTheReadCommands(t *testing.T) {
	for _, c := range reads {
		d := Check(c.server, wire(t, c.method, c.target), Rules{ReadOnly: true})
		if d.Refuse != "" || d.Write {
			t.Errorf("%s (%s %s): %+v, want allowed as a read", c.what, c.method, c.target, d)
		}
	}
}

func TestReadOnlyRefusesWritesAndSaysWhatWouldAllowThem(t *testing.T) {
	hint := "profile ci-admin allows it; or run: alilogin elevate --profile ci"
	for _, c := range writes {
		r := wire(t, c.method, c.target)
		d := Check(c.server, r, Rules{ReadOnly: true, ReadOnlyHint: hint})
		if !d.Write || d.Refuse == "" || d.Status() != http.StatusForbidden {
			t.Errorf("%s (%s %s): %+v, want refused as a write", c.what, c.method, c.target, d)
			continue
		}
		if d.Reason == ReadOnly && !strings.HasSuffix(d.Refuse, "; "+hint) {
			t.Errorf("%s: %q does not end with the hint", c.what, d.Refuse)
		}
		// Without read-only, the same request is a write that goes
		// (unless a secret rule refuses it), so an elevated gate can
		// count it as a use.
		d = Check(c.server, r, Rules{})
		if !d.Write || (d.Refuse != "" && d.Reason != Secret) {
			t.Errorf("%s not read-only: %+v", c.what, d)
		}
	}
}

func TestReadOnlyRefusalWithoutHint(t *testing.T) {
	d := Check(store.Consul, wire(t, "PUT", "/v1/kv/x"), Rules{ReadOnly: true, ReadOnlyHint: "  "})
	if want := "refused: PUT /v1/kv/x is not in the read-only routes of consul"; d.Refuse != want {
		t.Errorf("%q, want %q", d.Refuse, want)
	}
}

func TestReadOnlyPatterns(t *testing.T) {
	for _, c := range []struct {
		pattern, path string
		want          bool
	}{
		{"/v1/jobs", "/v1/jobs", true},
		{"/v1/jobs", "/v1/jobs/", false},
		{"/v1/jobs", "/v1/Jobs", false},
		{"/v1/job/*/plan", "/v1/job/web/plan", true},
		{"/v1/job/*/plan", "/v1/job//plan", false},
		{"/v1/job/*/plan", "/v1/job/web/x/plan", false},
		{"/v1/job/*/plan", "/v1/job/web/plan/", false},
		{"/v1/kv/**", "/v1/kv", true},
		{"/v1/kv/**", "/v1/kv/", true},
		{"/v1/kv/**", "/v1/kv/a/b/c/", true},
		{"/v1/kv/**", "/v1/kvx", false},
		{"/v1/client/allocation/*/stats", "/v1/client/allocation/a/stats", true},
		{"/v1/client/allocation/*/stats", "/v1/client/allocation/a/exec", false},
	} {
		if got := match(c.pattern, c.path); got != c.want {
			t.Errorf("match(%q, %q) = %v", c.pattern, c.path, got)
		}
	}
	for _, s := range []store.Kind{store.Vault, store.Nomad, store.Consul} {
		rs := ReadOnlyRoutes(s)
		if len(rs) == 0 {
			t.Errorf("%s: no read-only routes", s)
		}
		for _, r := range rs {
			if !strings.HasPrefix(r.Pattern, "/v1/") || len(r.Methods) == 0 {
				t.Errorf("%s: bad route %+v", s, r)
			}
		}
	}
	if ReadOnlyRoutes("x") != nil {
		t.Errorf("routes for an unknown server")
	}
}

// TestReadOnlyRefusesVaultReadsThatMakeCredentials: Vault's engines mint
// or change state on reads: an engine mounted deeper than one segment
// (team/db/creds/R: the database engine makes a new database user and
// password, a lease), the GCP engine's token and key reads
// (roleset/R/token, roleset/R/key: a new service-account key;
// static-account/S/token|key, impersonated-account/A/token), and the PKI
// engine's GET crl/rotate (rebuilds the CRL). A read-only profile's Vault
// reads are an allow-list, and these are not on it.
func TestReadOnlyRefusesVaultReadsThatMakeCredentials(t *testing.T) {
	for _, target := range []string{
		"/v1/team/db/creds/readonly",
		"/v1/secret-engines/nomad-ci/creds/ci",
		"/v1/gcp/roleset/deploy/token",
		"/v1/gcp/roleset/deploy/key",
		"/v1/gcp/static-account/sa/key",
		"/v1/gcp/static-account/sa/token",
		"/v1/gcp/impersonated-account/sa/token",
		"/v1/gcp/token/deploy",
		"/v1/gcp/key/deploy",
		"/v1/pki/crl/rotate",
		"/v1/pki/crl/rotate-delta",
		"/v1/aws/sts/deploy",
		"/v1/team/data/creds/ro",
		"/v1/team/data/roleset/deploy/key",
	} {
		for _, method := range []string{"GET", "HEAD", "LIST"} {
			r := httptest.NewRequest(method, target, nil)
			d := Check(store.Vault, r, Rules{ReadOnly: true, ReadOnlyHint: "run: alilogin elevate --profile p"})
			if d.Refuse == "" || !d.Write {
				t.Errorf("read-only %s %s: %+v, want refused as a write", method, target, d)
			}
		}
	}
}
