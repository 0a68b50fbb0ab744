package guard

import (
	"net/http/httptest"
	"testing"
)

// TestReadOnlyRefusesVaultReadsThatMakeCredentials: a read-only
// profile's Vault route lets every GET, HEAD and LIST through except
// "<one-segment mount>/creds|sts/R" and identity/oidc/token. Vault's
// engines mint or change on other reads too: an engine mounted deeper
// than one segment (team/db/creds/R: the database engine makes a new
// database user and password, a lease), the GCP engine's token and key
// reads (roleset/R/token, roleset/R/key: a new service-account key;
// static-account/S/token|key, impersonated-account/A/token), and the PKI
// engine's GET crl/rotate (rebuilds the CRL). Each is a write the
// read-only allow-list lets pass.
func TestReadOnlyRefusesVaultReadsThatMakeCredentials(t *testing.T) {
	for _, target := range []string{
		"/v1/team/db/creds/readonly",
		"/v1/secret-engines/nomad-ci/creds/ci",
		"/v1/gcp/roleset/deploy/token",
		"/v1/gcp/roleset/deploy/key",
		"/v1/gcp/static-account/sa/key",
		"/v1/gcp/impersonated-account/sa/token",
		"/v1/pki/crl/rotate",
	} {
		r := httptest.NewRequest("GET", target, nil)
		d := Check(Vault, r, Rules{ReadOnly: true, ReadOnlyHint: "run: alilogin elevate --profile p"})
		if d.Refuse == "" {
			t.Errorf("read-only GET %s: allowed (Write=%v), want refused", target, d.Write)
		}
	}
}
