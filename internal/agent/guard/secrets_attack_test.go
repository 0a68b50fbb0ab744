package guard

import (
	"io"
	"strings"
	"testing"
)

// TestVaultRoutesThatMintVaultCredentialsAreRefused: the guard refuses
// auth/token/create (a child token) and the nomad and consul engines'
// creds at the mounts the configuration names, but the same profile's
// Vault token may mint a Vault login through other routes, and the
// answer comes back whole: an AppRole secret-id (with the role-id, which
// is no secret, `vault write auth/approle/login` gives a Vault token
// anywhere, no agent needed), a custom secret-id, and the creds of a
// second nomad engine at a mount the discovery document does not name
// (nomad-ci/creds/R: a real Nomad token). Each answer's secret must not
// reach the tool.
func TestVaultRoutesThatMintVaultCredentialsAreRefused(t *testing.T) {
	const minted = "6f2c1a9e-0d2b-4c44-9a51-5d1b9b3e7a10"
	mounts := Mounts{Nomad: "nomad", Consul: "consul", PKI: "pki-users"}
	for _, c := range []struct{ method, target, body string }{
		{"POST", "/v1/auth/approle/role/ci/secret-id", `{"data":{"secret_id":"` + minted + `","secret_id_accessor":"a","secret_id_ttl":600}}`},
		{"POST", "/v1/auth/approle/role/ci/custom-secret-id", `{"data":{"secret_id":"` + minted + `","secret_id_accessor":"a"}}`},
		{"GET", "/v1/nomad-ci/creds/ci", `{"lease_id":"nomad-ci/creds/ci/x","data":{"accessor_id":"a","secret_id":"` + minted + `"}}`},
		{"GET", "/v1/consul-dc2/creds/ci", `{"lease_id":"consul-dc2/creds/ci/x","data":{"accessor":"a","token":"` + minted + `"}}`},
	} {
		r := wire(t, c.method, c.target)
		d := Check(Vault, r, Rules{Mounts: mounts})
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
