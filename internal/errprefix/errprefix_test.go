package errprefix

import "testing"

func TestRepeated(t *testing.T) {
	for _, c := range []struct {
		name, text string
		repeat     bool
	}{
		{"the same clause twice", "alilogin: error: could not renew the Vault token: could not renew the Vault token: Vault at http://127.0.0.1:1 is unreachable", true},
		{"a narrower object", "could not renew the nomad lease: could not renew the lease: Vault at x is unreachable", true},
		{"a remark in parentheses", "could not revoke the Vault token (accessor abc): could not revoke the Vault token: 500", true},
		{"a serial with colons", "warning: could not revoke the client certificate 0a:0b: could not revoke the client certificate 0a:0b: 500; it expires at 2026-01-01T00:00:00Z", true},
		{"not adjacent", "could not log in to Vault: Vault at x: could not log in to Vault: 500", true},
		{"case", "Could not renew the Vault token: could not renew the vault token: x", true},
		{"another verb", "could not mint a nomad token: could not read nomad/creds/ci: 500", false},
		{"another object", "could not read the discovery document of the broker at x: could not read the body: EOF", false},
		{"once", "could not renew the Vault token: Vault at x is unreachable", false},
		{"two lines", "could not renew the Vault token: x\ncould not renew the Vault token: y", false},
		{"no clause", "not logged in; run: alilogin login", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, ok := Repeated(c.text)
			if ok != c.repeat {
				t.Errorf("Repeated(%q) = %q, %v; want %v", c.text, r, ok, c.repeat)
			}
		})
	}
}
