package guard

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type secretCase struct {
	name   string
	server Server
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
	{name: "nomad one-time token", server: Nomad, method: "POST", target: "/v1/acl/token/onetime", want: "refuse"},
	{name: "nomad one-time token PUT", server: Nomad, method: "PUT", target: "/v1/acl/token/onetime", want: "refuse"},
	{name: "nomad one-time exchange", server: Nomad, method: "POST", target: "/v1/acl/token/onetime/exchange", want: "refuse"},
	{name: "nomad one-time trailing slash", server: Nomad, method: "POST", target: "/v1/acl/token/onetime/", want: "refuse"},
	{name: "nomad one-time case", server: Nomad, method: "POST", target: "/v1/ACL/Token/OneTime", want: "refuse"},
	{name: "nomad token self", server: Nomad, method: "GET", target: "/v1/acl/token/self", want: "blank", blank: aclBlank},
	{name: "nomad token self escaped", server: Nomad, method: "GET", target: "/v1/acl/token/%73elf", want: "blank", blank: aclBlank},
	{name: "nomad token read", server: Nomad, method: "GET", target: "/v1/acl/token/8d1b0c4e-8f3e-4b4e-9f0c-7b6d3b1d2a11", want: "blank", blank: aclBlank},
	{name: "nomad token list", server: Nomad, method: "GET", target: "/v1/acl/tokens?prefix=ab", want: "blank", blank: aclBlank},
	{name: "nomad token create", server: Nomad, method: "PUT", target: "/v1/acl/token", want: "blank", blank: aclBlank},
	{name: "nomad bootstrap", server: Nomad, method: "PUT", target: "/v1/acl/bootstrap", want: "blank", blank: aclBlank},
	{name: "nomad login", server: Nomad, method: "PUT", target: "/v1/acl/login", want: "blank", blank: aclBlank},
	{name: "nomad oidc complete-auth", server: Nomad, method: "PUT", target: "/v1/acl/oidc/complete-auth", want: "blank", blank: aclBlank},
	{name: "nomad snapshot", server: Nomad, method: "GET", target: "/v1/operator/snapshot", want: "refuse"},
	{name: "nomad gossip keyring", server: Nomad, method: "GET", target: "/v1/agent/keyring/list", want: "refuse"},
	{name: "nomad jobs", server: Nomad, method: "GET", target: "/v1/jobs", want: "plain"},
	{name: "nomad logs", server: Nomad, method: "GET", target: "/v1/client/fs/logs/0b4c?follow=true&type=stdout", want: "plain"},
	// Consul 1.16.3
	{name: "consul token self", server: Consul, method: "GET", target: "/v1/acl/token/self", want: "blank", blank: aclBlank},
	{name: "consul token read", server: Consul, method: "GET", target: "/v1/acl/token/1fe89feb-4dcd-0a11-421c-efc05eae0fed?expanded", want: "blank", blank: aclBlank},
	{name: "consul token list", server: Consul, method: "GET", target: "/v1/acl/tokens", want: "blank", blank: aclBlank},
	{name: "consul token create", server: Consul, method: "PUT", target: "/v1/acl/token", want: "blank", blank: aclBlank},
	{name: "consul token clone", server: Consul, method: "PUT", target: "/v1/acl/token/1fe89feb-4dcd-0a11-421c-efc05eae0fed/clone", want: "blank", blank: aclBlank},
	{name: "consul login", server: Consul, method: "POST", target: "/v1/acl/login", want: "blank", blank: aclBlank},
	{name: "consul bootstrap", server: Consul, method: "PUT", target: "/v1/acl/bootstrap", want: "blank", blank: aclBlank},
	{name: "consul snapshot", server: Consul, method: "GET", target: "/v1/snapshot", want: "refuse"},
	{name: "consul snapshot restore", server: Consul, method: "PUT", target: "/v1/snapshot", want: "refuse"},
	{name: "consul gossip keyring", server: Consul, method: "GET", target: "/v1/operator/keyring", want: "refuse"},
	{name: "consul connect leaf", server: Consul, method: "GET", target: "/v1/agent/connect/ca/leaf/web", want: "refuse"},
	{name: "consul CA configuration", server: Consul, method: "GET", target: "/v1/connect/ca/configuration", want: "refuse"},
	{name: "consul CA configuration set", server: Consul, method: "PUT", target: "/v1/connect/ca/configuration", want: "plain"},
	{name: "consul kv", server: Consul, method: "GET", target: "/v1/kv/acl/token/self", want: "plain"},
	// Vault 1.13
	{name: "vault lookup-self", server: Vault, method: "GET", target: "/v1/auth/token/lookup-self", want: "blank", blank: vaultLookupBlank},
	{name: "vault lookup-self POST", server: Vault, method: "POST", target: "/v1/auth/token/lookup-self", want: "blank", blank: vaultLookupBlank},
	{name: "vault lookup", server: Vault, method: "POST", target: "/v1/auth/token/lookup", want: "blank", blank: vaultLookupBlank},
	{name: "vault lookup-accessor", server: Vault, method: "POST", target: "/v1/auth/token/lookup-accessor", want: "blank", blank: vaultLookupBlank},
	{name: "vault lookup escaped", server: Vault, method: "GET", target: "/v1/auth/token/lookup%2dself", want: "blank", blank: vaultLookupBlank},
	{name: "vault renew-self", server: Vault, method: "POST", target: "/v1/auth/token/renew-self", want: "blank", blank: vaultAuthBlank},
	{name: "vault renew", server: Vault, method: "PUT", target: "/v1/auth/token/renew", want: "blank", blank: vaultAuthBlank},
	{name: "vault jwt login", server: Vault, method: "POST", target: "/v1/auth/jwt/login", want: "blank", blank: vaultAuthBlank},
	{name: "vault unwrap", server: Vault, method: "POST", target: "/v1/sys/wrapping/unwrap", want: "blank", blank: vaultAuthBlank},
	{name: "vault mfa validate", server: Vault, method: "POST", target: "/v1/sys/mfa/validate", want: "blank", blank: vaultAuthBlank},
	{name: "vault token create", server: Vault, method: "POST", target: "/v1/auth/token/create", want: "refuse"},
	{name: "vault token create orphan", server: Vault, method: "POST", target: "/v1/auth/token/create-orphan", want: "refuse"},
	{name: "vault token create role", server: Vault, method: "POST", target: "/v1/auth/token/create/ci", want: "refuse"},
	{name: "vault token create case", server: Vault, method: "PUT", target: "/v1/auth/token/Create", want: "refuse"},
	{name: "vault revoke-self", server: Vault, method: "POST", target: "/v1/auth/token/revoke-self", want: "refuse"},
	{name: "vault wrap ttl", server: Vault, method: "GET", target: "/v1/secret/data/x", header: http.Header{"X-Vault-Wrap-Ttl": {"5m"}}, want: "refuse"},
	{name: "vault wrap ttl empty first", server: Vault, method: "GET", target: "/v1/secret/data/x", header: http.Header{"X-Vault-Wrap-Ttl": {"", "5m"}}, want: "refuse"},
	{name: "vault wrap format", server: Vault, method: "GET", target: "/v1/secret/data/x", header: http.Header{"X-Vault-Wrap-Format": {"jwt"}}, want: "refuse"},
	{name: "vault namespace", server: Vault, method: "GET", target: "/v1/auth/token/lookup-self", header: http.Header{"X-Vault-Namespace": {"ns1"}}, want: "refuse"},
	{name: "vault wrap", server: Vault, method: "POST", target: "/v1/sys/wrapping/wrap", want: "refuse"},
	{name: "vault rewrap", server: Vault, method: "POST", target: "/v1/sys/wrapping/rewrap", want: "refuse"},
	{name: "vault wrapping lookup", server: Vault, method: "POST", target: "/v1/sys/wrapping/lookup", want: "plain"},
	{name: "vault nomad creds", server: Vault, method: "GET", target: "/v1/nomad/creds/ci", want: "refuse"},
	{name: "vault nomad creds list", server: Vault, method: "LIST", target: "/v1/nomad/creds/", want: "refuse"},
	{name: "vault nomad creds list query", server: Vault, method: "GET", target: "/v1/nomad/creds?list=true", want: "refuse"},
	{name: "vault consul creds", server: Vault, method: "GET", target: "/v1/consul/creds/ci", want: "refuse"},
	{name: "vault nomad creds other mount", server: Vault, method: "GET", target: "/v1/alice/nomad/creds/ci", mounts: Mounts{Nomad: "/alice/nomad/"}, want: "refuse"},
	{name: "vault consul creds other mount", server: Vault, method: "POST", target: "/v1/consul-alice/creds/ci", mounts: Mounts{Consul: "consul-alice"}, want: "refuse"},
	{name: "vault default nomad mount when another is set", server: Vault, method: "GET", target: "/v1/nomad/creds/ci", mounts: Mounts{Nomad: "alice/nomad"}, want: "refuse"},
	{name: "vault default consul mount when another is set", server: Vault, method: "GET", target: "/v1/consul/creds/ci", mounts: Mounts{Consul: "c2"}, want: "refuse"},
	{name: "vault pki sign", server: Vault, method: "POST", target: "/v1/pki-users/sign/ci", mounts: Mounts{PKI: "pki-users"}, want: "refuse"},
	{name: "vault pki issue", server: Vault, method: "POST", target: "/v1/pki-users/issue/ci", mounts: Mounts{PKI: "pki-users"}, want: "refuse"},
	{name: "vault pki issuer sign", server: Vault, method: "POST", target: "/v1/pki-users/issuer/default/sign/ci", mounts: Mounts{PKI: "pki-users"}, want: "refuse"},
	{name: "vault pki sign-verbatim", server: Vault, method: "POST", target: "/v1/pki-users/sign-verbatim/ci", mounts: Mounts{PKI: "pki-users"}, want: "refuse"},
	{name: "vault pki root sign-intermediate", server: Vault, method: "POST", target: "/v1/pki-users/root/sign-intermediate", mounts: Mounts{PKI: "pki-users"}, want: "refuse"},
	{name: "vault pki exported key", server: Vault, method: "POST", target: "/v1/pki-users/intermediate/generate/exported", mounts: Mounts{PKI: "pki-users"}, want: "refuse"},
	{name: "vault pki ca", server: Vault, method: "GET", target: "/v1/pki-users/ca/pem", mounts: Mounts{PKI: "pki-users"}, want: "plain"},
	{name: "vault other pki", server: Vault, method: "POST", target: "/v1/pki/issue/web", mounts: Mounts{PKI: "pki-users"}, want: "plain"},
	{name: "vault generate root", server: Vault, method: "PUT", target: "/v1/sys/generate-root/update", want: "refuse"},
	{name: "vault generate recovery", server: Vault, method: "PUT", target: "/v1/sys/generate-recovery-token/attempt", want: "refuse"},
	{name: "vault raw", server: Vault, method: "GET", target: "/v1/sys/raw/sys/token/id/x", want: "refuse"},
	{name: "vault raft snapshot", server: Vault, method: "GET", target: "/v1/sys/storage/raft/snapshot", want: "refuse"},
	{name: "vault identity token", server: Vault, method: "GET", target: "/v1/identity/oidc/token/ci", want: "refuse"},
	{name: "vault kv", server: Vault, method: "GET", target: "/v1/secret/data/auth/token/create", want: "plain"},
	{name: "vault kv named creds", server: Vault, method: "GET", target: "/v1/kv/data/nomad/creds/ci", want: "plain"},
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
