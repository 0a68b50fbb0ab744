package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBrokerHCLHostileMountsAndAddresses: broker.hcl's mounts follow
// alilogin's rule for Vault mount paths and its addresses alilogin's rule
// for plain HTTP, with file:line:col diagnostics.
func TestBrokerHCLHostileMountsAndAddresses(t *testing.T) {
	const sso = "sso {\n  issuer = \"https://x\"\n  client_id = \"c\"\n}\n"
	for _, tc := range []struct {
		name, broker string
		want         []string
	}{
		{"jwt mount with ..", sso + "vault {\n  jwt_mount = \"../../sys/policies/acl\"\n}\n",
			[]string{`broker.hcl:6:15: Invalid jwt_mount: "../../sys/policies/acl" is not a valid Vault mount path: segment ".."`}},
		{"nomad mount with .. inside", sso + "vault {\n  nomad_mount = \"nomad/../sys\"\n}\n",
			[]string{`broker.hcl:6:17: Invalid nomad_mount: "nomad/../sys" is not a valid Vault mount path: segment ".."`}},
		{"consul mount with an empty segment", sso + "vault {\n  consul_mount = \"a//b\"\n}\n",
			[]string{`broker.hcl:6:18: Invalid consul_mount: "a//b" is not a valid Vault mount path: empty segment`}},
		{"mount under sys", sso + "vault {\n  nomad_mount = \"sys/policies/acl\"\n}\n",
			[]string{`broker.hcl:6:17: Invalid nomad_mount: "sys/policies/acl" is not a valid Vault mount path: sys/ is Vault's own`}},
		{"vault over plain http", sso + "vault {\n  address = \"http://vault.example:8200\"\n}\n",
			[]string{`broker.hcl:6:13: Invalid address: plain http:// to a host that is not loopback: "http://vault.example:8200" (tokens would cross the network unencrypted): use https://; to send tokens over it anyway, set insecure_http = true in this block`}},
		{"nomad over plain http", sso + "vault {}\nnomad {\n  address = \"http://10.0.0.1:4646\"\n}\n",
			[]string{`broker.hcl:7:13: Invalid address: plain http:// to a host that is not loopback: "http://10.0.0.1:4646" (tokens would cross the network unencrypted): use https://; to send tokens over it anyway, set insecure_http = true in this block`}},
		{"consul address with credentials", sso + "vault {}\nconsul {\n  address = \"https://u:p@consul.example\"\n}\n",
			[]string{`broker.hcl:7:13: Invalid address: "https://u:xxxxx@consul.example" carries a user name or password; credentials never go in an address`}},
		{"loopback http", sso + "vault {\n  address = \"http://127.0.0.1:8200\"\n}\n", nil},
		{"LOCALHOST, normalised", sso + "vault {\n  address = \"http://LOCALHOST.:8200\"\n}\n", nil},
		{"opted in", sso + "vault {\n  address = \"http://vault.example:8200\"\n  insecure_http = true\n}\nconsul {\n  address = \"http://consul.service:8500\"\n  insecure_http = true\n}\n", nil},
		{"opt-in is per block", sso + "vault {\n  insecure_http = true\n}\nconsul {\n  address = \"http://consul.service:8500\"\n}\n",
			[]string{`broker.hcl:9:13: Invalid address: plain http:// to a host that is not loopback: "http://consul.service:8500" (tokens would cross the network unencrypted): use https://; to send tokens over it anyway, set insecure_http = true in this block`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadFS(minimal(t, map[string]string{"broker.hcl": tc.broker}), "p")
			var got []string
			if perr, ok := err.(*Error); ok {
				for _, d := range perr.Diagnostics {
					got = append(got, strings.TrimPrefix(FormatDiagnostic(d), "p/"))
				}
			} else if err != nil {
				t.Fatalf("LoadFS = %v, want *Error", err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("diagnostics (-want +got):\n%s", d)
			}
		})
	}
}

// TestBrokerHCLAddressNormalized: broker.hcl's addresses are normalised
// (scheme and host in lower case, no trailing dot) before they are
// checked, and used as checked.
func TestBrokerHCLAddressNormalized(t *testing.T) {
	const sso = "sso {\n  issuer = \"https://x\"\n  client_id = \"c\"\n}\n"
	cfg, err := LoadFS(minimal(t, map[string]string{"broker.hcl": sso + "vault {\n  address = \"HTTP://LOCALHOST.:8200\"\n}\n"}), "p")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Vault.Addr != "http://localhost:8200" {
		t.Errorf("vault address %q, want http://localhost:8200", cfg.Vault.Addr)
	}
}
