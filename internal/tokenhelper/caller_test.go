package tokenhelper

import (
	"slices"
	"testing"
)

// TestAddressFlags: every spelling the vault CLI's flag parser accepts
// names the server; the last one counts; after "--" nothing is a flag.
func TestAddressFlags(t *testing.T) {
	for _, c := range []struct {
		args          []string
		address, agnt string
	}{
		{[]string{"token", "lookup"}, "", ""},
		{[]string{"token", "lookup", "-address=http://x:1"}, "http://x:1", ""},
		{[]string{"--address=http://x:1", "status"}, "http://x:1", ""},
		{[]string{"kv", "get", "-address", "http://x:2", "secret/a"}, "http://x:2", ""},
		{[]string{"kv", "get", "--address", "http://x:2", "-address=http://x:3", "secret/a"}, "http://x:3", ""},
		{[]string{"status", "-agent-address=http://a:1"}, "", "http://a:1"},
		{[]string{"status", "--agent-address", "http://a:2"}, "", "http://a:2"},
		{[]string{"kv", "put", "secret/a", "--", "-address=http://x:1"}, "", ""},
		{[]string{"status", "-address"}, "", ""},
		{[]string{"status", "-addressx=http://x:1"}, "", ""},
	} {
		a, g := AddressFlags(c.args)
		if a != c.address || g != c.agnt {
			t.Errorf("%q: got (%q, %q), want (%q, %q)", c.args, a, g, c.address, c.agnt)
		}
	}
}

// TestCallerArgsNoVault: the test binary has no vault ancestor.
func TestCallerArgsNoVault(t *testing.T) {
	if args, ok := CallerArgs(); ok {
		t.Errorf("found a vault ancestor with %q", slices.Clone(args))
	}
}
