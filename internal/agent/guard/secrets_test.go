package guard

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/store"
)

type secretCase struct {
	name   string
	server store.Kind
	method string
	target string
	header http.Header
	mounts Mounts
	want   string // "refuse", "blank", "plain"
	blank  *Blank
}

// secretCases is the table of docs/security.md's "No real credential
// comes back through the agent".
var secretCases = []secretCase{
	// Nomad 1.6.1
	{name: "nomad one-time token", server: store.Nomad, method: "POST", target: "/v1/acl/token/onetime", want: "refuse"},
	{name: "nomad one-time token PUT", server: store.Nomad, method: "PUT", target: "/v1/acl/token/onetime", want: "refuse"},
	{name: "nomad one-time exchange", server: store.Nomad, method: "POST", target: "/v1/acl/token/onetime/exchange", want: "refuse"},
	{name: "nomad one-time trailing slash", server: store.Nomad, method: "POST", target: "/v1/acl/token/onetime/", want: "refuse"},
	{name: "nomad one-time case", server: store.Nomad, method: "POST", target: "/v1/ACL/Token/OneTime", want: "refuse"},
	{name: "nomad token self", server: store.Nomad, method: "GET", target: "/v1/acl/token/self", want: "blank", blank: aclBlank},
	{name: "nomad token self escaped", server: store.Nomad, method: "GET", target: "/v1/acl/token/%73elf", want: "blank", blank: aclBlank},
	{name: "nomad token read", server: store.Nomad, method: "GET", target: "/v1/acl/token/8d1b0c4e-8f3e-4b4e-9f0c-7b6d3b1d2a11", want: "blank", blank: aclBlank},
	{name: "nomad token list", server: store.Nomad, method: "GET", target: "/v1/acl/tokens?prefix=ab", want: "blank", blank: aclBlank},
	{name: "nomad token create", server: store.Nomad, method: "PUT", target: "/v1/acl/token", want: "blank", blank: aclBlank},
	{name: "nomad bootstrap", server: store.Nomad, method: "PUT", target: "/v1/acl/bootstrap", want: "blank", blank: aclBlank},
	{name: "nomad login", server: store.Nomad, method: "PUT", target: "/v1/acl/login", want: "blank", blank: aclBlank},
	{name: "nomad oidc complete-auth", server: store.Nomad, method: "PUT", target: "/v1/acl/oidc/complete-auth", want: "blank", blank: aclBlank},
	{name: "nomad snapshot", server: store.Nomad, method: "GET", target: "/v1/operator/snapshot", want: "refuse"},
	{name: "nomad gossip keyring", server: store.Nomad, method: "GET", target: "/v1/agent/keyring/list", want: "refuse"},
	{name: "nomad jobs", server: store.Nomad, method: "GET", target: "/v1/jobs", want: "plain"},
	{name: "nomad logs", server: store.Nomad, method: "GET", target: "/v1/client/fs/logs/0b4c?follow=true&type=stdout", want: "plain"},
	// Consul 1.16.3
	{name: "consul token self", server: store.Consul, method: "GET", target: "/v1/acl/token/self", want: "blank", blank: aclBlank},
	{name: "consul token read", server: store.Consul, method: "GET", target: "/v1/acl/token/1fe89feb-4dcd-0a11-421c-efc05eae0fed?expanded", want: "blank", blank: aclBlank},
	{name: "consul token list", server: store.Consul, method: "GET", target: "/v1/acl/tokens", want: "blank", blank: aclBlank},
	{name: "consul token create", server: store.Consul, method: "PUT", target: "/v1/acl/token", want: "blank", blank: aclBlank},
	{name: "consul token clone", server: store.Consul, method: "PUT", target: "/v1/acl/token/1fe89feb-4dcd-0a11-421c-efc05eae0fed/clone", want: "blank", blank: aclBlank},
	{name: "consul login", server: store.Consul, method: "POST", target: "/v1/acl/login", want: "blank", blank: aclBlank},
	{name: "consul bootstrap", server: store.Consul, method: "PUT", target: "/v1/acl/bootstrap", want: "blank", blank: aclBlank},
	{name: "consul snapshot", server: store.Consul, method: "GET", target: "/v1/snapshot", want: "refuse"},
	{name: "consul snapshot restore", server: store.Consul, method: "PUT", target: "/v1/snapshot", want: "refuse"},
	{name: "consul gossip keyring", server: store.Consul, method: "GET", target: "/v1/operator/keyring", want: "refuse"},
	{name: "consul peering token", server: store.Consul, method: "POST", target: "/v1/peering/token", want: "refuse"},
	{name: "consul connect leaf", server: store.Consul, method: "GET", target: "/v1/agent/connect/ca/leaf/web", want: "refuse"},
	{name: "consul CA configuration", server: store.Consul, method: "GET", target: "/v1/connect/ca/configuration", want: "refuse"},
	{name: "consul CA configuration set", server: store.Consul, method: "PUT", target: "/v1/connect/ca/configuration", want: "plain"},
	{name: "consul kv", server: store.Consul, method: "GET", target: "/v1/kv/acl/token/self", want: "plain"},
	// Vault 1.13
	{name: "vault lookup-self", server: store.Vault, method: "GET", target: "/v1/auth/token/lookup-self", want: "blank", blank: vaultLookupBlank},
	{name: "vault lookup-self POST", server: store.Vault, method: "POST", target: "/v1/auth/token/lookup-self", want: "blank", blank: vaultLookupBlank},
	{name: "vault lookup", server: store.Vault, method: "POST", target: "/v1/auth/token/lookup", want: "blank", blank: vaultLookupBlank},
	{name: "vault lookup-accessor", server: store.Vault, method: "POST", target: "/v1/auth/token/lookup-accessor", want: "blank", blank: vaultLookupBlank},
	{name: "vault lookup escaped", server: store.Vault, method: "GET", target: "/v1/auth/token/lookup%2dself", want: "blank", blank: vaultLookupBlank},
	{name: "vault renew-self", server: store.Vault, method: "POST", target: "/v1/auth/token/renew-self", want: "blank", blank: vaultAuthBlank},
	{name: "vault renew", server: store.Vault, method: "PUT", target: "/v1/auth/token/renew", want: "blank", blank: vaultAuthBlank},
	{name: "vault jwt login", server: store.Vault, method: "POST", target: "/v1/auth/jwt/login", want: "blank", blank: vaultAuthBlank},
	{name: "vault unwrap", server: store.Vault, method: "POST", target: "/v1/sys/wrapping/unwrap", want: "blank", blank: vaultAuthBlank},
	{name: "vault mfa validate", server: store.Vault, method: "POST", target: "/v1/sys/mfa/validate", want: "blank", blank: vaultAuthBlank},
	{name: "vault token create", server: store.Vault, method: "POST", target: "/v1/auth/token/create", want: "refuse"},
	{name: "vault token create orphan", server: store.Vault, method: "POST", target: "/v1/auth/token/create-orphan", want: "refuse"},
	{name: "vault token create role", server: store.Vault, method: "POST", target: "/v1/auth/token/create/ci", want: "refuse"},
	{name: "vault token create case", server: store.Vault, method: "PUT", target: "/v1/auth/token/Create", want: "refuse"},
	{name: "vault revoke-self", server: store.Vault, method: "POST", target: "/v1/auth/token/revoke-self", want: "refuse"},
	{name: "vault wrap ttl", server: store.Vault, method: "GET", target: "/v1/secret/data/x", header: http.Header{"X-Vault-Wrap-Ttl": {"5m"}}, want: "refuse"},
	{name: "vault wrap ttl empty first", server: store.Vault, method: "GET", target: "/v1/secret/data/x", header: http.Header{"X-Vault-Wrap-Ttl": {"", "5m"}}, want: "refuse"},
	{name: "vault wrap format", server: store.Vault, method: "GET", target: "/v1/secret/data/x", header: http.Header{"X-Vault-Wrap-Format": {"jwt"}}, want: "refuse"},
	{name: "vault namespace", server: store.Vault, method: "GET", target: "/v1/auth/token/lookup-self", header: http.Header{"X-Vault-Namespace": {"ns1"}}, want: "refuse"},
	{name: "vault wrap", server: store.Vault, method: "POST", target: "/v1/sys/wrapping/wrap", want: "refuse"},
	{name: "vault rewrap", server: store.Vault, method: "POST", target: "/v1/sys/wrapping/rewrap", want: "refuse"},
	{name: "vault wrapping lookup", server: store.Vault, method: "POST", target: "/v1/sys/wrapping/lookup", want: "plain"},
	{name: "vault nomad creds", server: store.Vault, method: "GET", target: "/v1/nomad/creds/ci", want: "refuse"},
	{name: "vault nomad creds list", server: store.Vault, method: "LIST", target: "/v1/nomad/creds/", want: "refuse"},
	{name: "vault nomad creds list query", server: store.Vault, method: "GET", target: "/v1/nomad/creds?list=true", want: "refuse"},
	{name: "vault consul creds", server: store.Vault, method: "GET", target: "/v1/consul/creds/ci", want: "refuse"},
	{name: "vault nomad creds other mount", server: store.Vault, method: "GET", target: "/v1/alice/nomad/creds/ci", mounts: Mounts{Nomad: "/alice/nomad/"}, want: "refuse"},
	{name: "vault consul creds other mount", server: store.Vault, method: "POST", target: "/v1/consul-alice/creds/ci", mounts: Mounts{Consul: "consul-alice"}, want: "refuse"},
	{name: "vault default nomad mount when another is set", server: store.Vault, method: "GET", target: "/v1/nomad/creds/ci", mounts: Mounts{Nomad: "alice/nomad"}, want: "refuse"},
	{name: "vault default consul mount when another is set", server: store.Vault, method: "GET", target: "/v1/consul/creds/ci", mounts: Mounts{Consul: "c2"}, want: "refuse"},
	{name: "vault pki sign", server: store.Vault, method: "POST", target: "/v1/pki-users/sign/ci", mounts: Mounts{PKI: "pki-users"}, want: "refuse"},
	{name: "vault pki issue", server: store.Vault, method: "POST", target: "/v1/pki-users/issue/ci", mounts: Mounts{PKI: "pki-users"}, want: "refuse"},
	{name: "vault pki issuer sign", server: store.Vault, method: "POST", target: "/v1/pki-users/issuer/default/sign/ci", mounts: Mounts{PKI: "pki-users"}, want: "refuse"},
	{name: "vault pki sign-verbatim", server: store.Vault, method: "POST", target: "/v1/pki-users/sign-verbatim/ci", mounts: Mounts{PKI: "pki-users"}, want: "refuse"},
	{name: "vault pki root sign-intermediate", server: store.Vault, method: "POST", target: "/v1/pki-users/root/sign-intermediate", mounts: Mounts{PKI: "pki-users"}, want: "refuse"},
	{name: "vault pki exported key", server: store.Vault, method: "POST", target: "/v1/pki-users/intermediate/generate/exported", mounts: Mounts{PKI: "pki-users"}, want: "refuse"},
	{name: "vault pki ca", server: store.Vault, method: "GET", target: "/v1/pki-users/ca/pem", mounts: Mounts{PKI: "pki-users"}, want: "plain"},
	{name: "vault pki issue other mount", server: store.Vault, method: "POST", target: "/v1/pki/issue/web", mounts: Mounts{PKI: "pki-users"}, want: "refuse"},
	{name: "vault pki sign deeper mount", server: store.Vault, method: "PUT", target: "/v1/team/pki/issuer/default/sign/web", want: "refuse"},
	{name: "vault pki issue GET", server: store.Vault, method: "GET", target: "/v1/pki/issue/web", want: "plain"},
	{name: "vault kv key named issue", server: store.Vault, method: "GET", target: "/v1/secret/data/jira/issue/42", want: "plain"},
	{name: "vault generate root", server: store.Vault, method: "PUT", target: "/v1/sys/generate-root/update", want: "refuse"},
	{name: "vault generate recovery", server: store.Vault, method: "PUT", target: "/v1/sys/generate-recovery-token/attempt", want: "refuse"},
	{name: "vault raw", server: store.Vault, method: "GET", target: "/v1/sys/raw/sys/token/id/x", want: "refuse"},
	{name: "vault raft snapshot", server: store.Vault, method: "GET", target: "/v1/sys/storage/raft/snapshot", want: "refuse"},
	{name: "vault identity token", server: store.Vault, method: "GET", target: "/v1/identity/oidc/token/ci", want: "refuse"},
	{name: "vault oidc provider authorize", server: store.Vault, method: "GET", target: "/v1/identity/oidc/provider/default/authorize?client_id=x", want: "refuse"},
	{name: "vault oidc provider config", server: store.Vault, method: "GET", target: "/v1/identity/oidc/provider/default/.well-known/openid-configuration", want: "plain"},
	{name: "vault approle secret-id", server: store.Vault, method: "POST", target: "/v1/auth/approle/role/ci/secret-id", want: "refuse"},
	{name: "vault approle custom secret-id", server: store.Vault, method: "POST", target: "/v1/auth/apps/approle/role/ci/custom-secret-id", want: "refuse"},
	{name: "vault approle secret-id list", server: store.Vault, method: "LIST", target: "/v1/auth/approle/role/ci/secret-id/", want: "refuse"},
	{name: "vault approle secret-id lookup", server: store.Vault, method: "POST", target: "/v1/auth/approle/role/ci/secret-id/lookup", want: "blank", blank: vaultAuthBlank},
	{name: "vault approle role id", server: store.Vault, method: "GET", target: "/v1/auth/approle/role/ci/role-id", want: "blank", blank: vaultAuthBlank},
	{name: "vault kv", server: store.Vault, method: "GET", target: "/v1/secret/data/auth/token/create", want: "plain"},
	{name: "vault nomad creds unnamed mount", server: store.Vault, method: "GET", target: "/v1/nomad-ci/creds/ci", mounts: Mounts{Nomad: "nomad"}, want: "refuse"},
	{name: "vault consul creds unnamed mount", server: store.Vault, method: "GET", target: "/v1/consul-dc2/creds/ci", mounts: Mounts{Consul: "consul"}, want: "refuse"},
	{name: "vault creds deeper mount", server: store.Vault, method: "GET", target: "/v1/secret-engines/nomad-ci/creds/ci", want: "refuse"},
	{name: "vault creds list unnamed mount", server: store.Vault, method: "LIST", target: "/v1/nomad-ci/creds/", want: "refuse"},
	// The creds rule is a shape: a KV key with a "creds" segment before a
	// last one is refused with the engines' creds; one ending in creds is
	// read.
	{name: "vault kv key shaped as creds", server: store.Vault, method: "GET", target: "/v1/kv/data/nomad/creds/ci", want: "refuse"},
	{name: "vault lease lookup of creds leases", server: store.Vault, method: "LIST", target: "/v1/sys/leases/lookup/nomad/creds/ci/", want: "plain"},
	{name: "vault kv key named creds", server: store.Vault, method: "GET", target: "/v1/secret/data/ci/creds", want: "plain"},
}

// Header names reach Check as the agent's server canonicalises them:
// any spelling on the wire of the wrapping and namespace headers counts.
func TestVaultHeadersInAnySpelling(t *testing.T) {
	for _, h := range []string{"x-vault-wrap-ttl: 5m", "X-VAULT-WRAP-TTL: 5m", "x-vault-wrap-format: jwt", "x-vault-namespace: ns1", "X-Vault-Wrap-TTL:"} {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET /v1/secret/data/x HTTP/1.1\r\nHost: a\r\n" + h + "\r\n\r\n")))
		if err != nil {
			t.Fatal(err)
		}
		if d := Check(store.Vault, r, Rules{}); d.Reason != Secret {
			t.Errorf("%q: %+v, want refused", h, d)
		}
	}
}

func TestSecretRoutesAreRefusedOrBlanked(t *testing.T) {
	for _, c := range secretCases {
		t.Run(c.name, func(t *testing.T) {
			r := wire(t, c.method, c.target)
			for k, v := range c.header {
				r.Header[k] = v
			}
			// The secret rules hold whatever the read-only setting says.
			for _, ro := range []bool{false, true} {
				d := Check(c.server, r, Rules{Mounts: c.mounts, ReadOnly: ro})
				if ro && d.Reason == ReadOnly {
					continue
				}
				switch c.want {
				case "refuse":
					if d.Reason != Secret || d.Refuse == "" || d.Status() != http.StatusForbidden || d.Blank != nil {
						t.Fatalf("read-only %v: %+v, want refused as a secret", ro, d)
					}
				case "blank":
					if d.Refuse != "" {
						t.Fatalf("read-only %v: refused: %s", ro, d.Refuse)
					}
					if diff := cmp.Diff(c.blank, d.Blank); diff != "" {
						t.Fatalf("read-only %v: blank (-want +got):\n%s", ro, diff)
					}
				case "plain":
					if d.Refuse != "" || d.Blank != nil {
						t.Fatalf("read-only %v: %+v, want forwarded as is", ro, d)
					}
				}
			}
		})
	}
}

// TestVaultRoutesThatMintVaultCredentialsAreRefused: the same profile's
// Vault token may mint a login to Vault, Nomad or Consul through routes
// other than the ones the discovery document names, and the answer must
// not reach the tool: an AppRole secret-id or custom secret-id (with the
// role-id, which is no secret, `vault write auth/approle/login` gives a
// Vault token anywhere, no agent needed), and the creds of a second
// nomad or consul engine at a mount the discovery document does not name
// (nomad-ci/creds/R: a real Nomad token).
func TestVaultRoutesThatMintVaultCredentialsAreRefused(t *testing.T) {
	const minted = "6f2c1a9e-0d2b-4c44-9a51-5d1b9b3e7a10"
	mounts := Mounts{Nomad: "nomad", Consul: "consul", PKI: "pki-users"}
	for _, c := range []struct{ method, target, body string }{
		{"POST", "/v1/auth/approle/role/ci/secret-id", `{"data":{"secret_id":"` + minted + `","secret_id_accessor":"a","secret_id_ttl":600}}`},
		{"POST", "/v1/auth/approle/role/ci/custom-secret-id", `{"data":{"secret_id":"` + minted + `","secret_id_accessor":"a"}}`},
		{"GET", "/v1/nomad-ci/creds/ci", `{"lease_id":"nomad-ci/creds/ci/x","data":{"accessor_id":"a","secret_id":"` + minted + `"}}`},
		{"GET", "/v1/consul-dc2/creds/ci", `{"lease_id":"consul-dc2/creds/ci/x","data":{"accessor":"a","token":"` + minted + `"}}`},
		{"GET", "/v1/secret-engines/nomad-ci/creds/ci", `{"lease_id":"secret-engines/nomad-ci/creds/ci/x","data":{"accessor_id":"a","secret_id":"` + minted + `"}}`},
	} {
		r := wire(t, c.method, c.target)
		d := Check(store.Vault, r, Rules{Mounts: mounts})
		if d.Refuse != "" {
			continue
		}
		resp := answer(200, c.body, false)
		if err := d.RewriteResponse(resp); err != nil {
			continue // refused at the answer: fine
		}
		b, _ := io.ReadAll(resp.Body)
		if strings.Contains(string(b), minted) {
			t.Errorf("%s %s: forwarded, and the minted credential comes back: %s", c.method, c.target, b)
		}
	}
}
