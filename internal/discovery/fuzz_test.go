package discovery

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse feeds arbitrary bytes to the discovery document decoder, as a
// broken or malicious broker could send them to `alilogin setup`: it must
// never panic, and a document it accepts must be valid, survive a JSON
// round trip unchanged, and answer Allowed.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 30s ./internal/discovery
func FuzzParse(f *testing.F) {
	good, err := json.Marshal(Document{Version: 1, SSO: SSO{Issuer: "https://sso", ClientID: "c", RolesClaim: "/a/b"},
		Vault: Vault{Addr: "https://vault:8200"}, Profiles: []Profile{{Name: "ci", Roles: []string{"r"}, Nomad: true}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"version":1,"sso":{"issuer":"i","client_id":"c"},"vault":{"addr":"a"},"profiles":[{"name":"a"},{"name":"a"}]}`))
	f.Add([]byte(`{"version":1e400,"profiles":[null,{"roles":[null,1]}]}`))
	f.Add([]byte(`{"sso":[],"vault":"x","profiles":{}}`))
	f.Add([]byte("null"))
	f.Add([]byte("\xff{"))

	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			_ = err.Error()
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("accepted an invalid document: %v", err)
		}
		_ = d.Allowed([]string{"r", ""})
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("could not re-encode an accepted document: %v", err)
		}
		d2, err := Parse(b)
		if err != nil {
			t.Fatalf("re-encoded document rejected: %v\n%s", err, b)
		}
		if diff := cmp.Diff(d, d2); diff != "" {
			t.Fatalf("round trip changed the document (-first +second):\n%s", diff)
		}
	})
}
