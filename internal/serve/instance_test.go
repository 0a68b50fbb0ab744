package serve

import (
	"errors"
	"testing"

	"github.com/alisw/alilogin/internal/policy"
)

func TestIdentity(t *testing.T) {
	host := func() (string, error) { return "h", nil }
	for _, tc := range []struct{ flag, alloc, want string }{
		{"x", "alloc", "x"},
		{"", "alloc", "alloc"},
		{"", "", "h/127.0.0.1:8080"},
	} {
		if got := Identity(tc.flag, tc.alloc, host, "127.0.0.1:8080"); got != tc.want {
			t.Errorf("Identity(%q, %q) = %q, want %q", tc.flag, tc.alloc, got, tc.want)
		}
	}
	if got := Identity("", "", func() (string, error) { return "", errors.New("no name") }, ":1"); got != "/:1" {
		t.Errorf("without a host name: %q", got)
	}
}

func TestWithEnvVault(t *testing.T) {
	withAddr := &policy.Config{Vault: policy.Vault{Addr: "https://file"}}
	for _, tc := range []struct {
		name  string
		flag  string
		first *policy.Config
		want  string
	}{
		{"flag wins", "https://flag", nil, "https://flag"},
		{"invalid folder at start: VAULT_ADDR", "", nil, "https://env"},
		{"broker.hcl without an address: VAULT_ADDR", "", &policy.Config{}, "https://env"},
		{"broker.hcl's address: left to the server", "", withAddr, ""},
	} {
		if got := (Public{VaultAddr: tc.flag}).WithEnvVault(tc.first, "https://env"); got.VaultAddr != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got.VaultAddr, tc.want)
		}
	}
}
