package check

import "testing"

func TestCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://vault.cern.ch", "https://vault.cern.ch:443"},
		{"HTTPS://Vault.CERN.ch:443/", "https://vault.cern.ch:443"},
		{"https://vault.cern.ch:8200", "https://vault.cern.ch:8200"},
		{"http://127.0.0.1:8200/", "http://127.0.0.1:8200"},
		{"http://localhost", "http://localhost:80"},
		{"https://[::1]:8200", "https://[::1]:8200"},
		{"https://proxy.example/vault/", "https://proxy.example:443/vault"},
	} {
		got, err := Canonical(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Canonical(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "vault.cern.ch", "ftp://x", "https://", "https://u:p@x", "https://x?a=b", "https://x#f", "https://x:8200\x1b"} {
		if got, err := Canonical(in); err == nil {
			t.Errorf("Canonical(%q) = %q, want an error", in, got)
		}
	}
}
