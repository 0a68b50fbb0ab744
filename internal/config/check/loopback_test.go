package check

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestLoopbackIsGoProxyRule: Loopback says "loopback" exactly for the
// hosts Go's net/http never sends through HTTP_PROXY (lower-case
// localhost, loopback IPs), so that no check assumes away a proxy that
// carries the token: LOCALHOST and localhost. are not loopback.
func TestLoopbackIsGoProxyRule(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://proxy.invalid:3128")
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	t.Setenv("REQUEST_METHOD", "")
	for _, host := range []string{
		"localhost", "LOCALHOST", "LocalHost", "localhost.", "127.0.0.1", "127.8.9.1", "127.0.0.1.",
		"::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "vault.example", "10.0.0.1", "localhost.evil.example",
		"127.0.0.1.evil.example", "127.1",
	} {
		hostport := host + ":8200"
		if strings.Contains(host, ":") {
			hostport = "[" + host + "]:8200"
		}
		proxy, err := http.ProxyFromEnvironment(&http.Request{URL: &url.URL{Scheme: "http", Host: hostport}})
		if err != nil {
			t.Fatal(err)
		}
		if got, direct := Loopback(host), proxy == nil; got != direct {
			t.Errorf("Loopback(%q) = %v, but Go sends it through the proxy: %v", host, got, !direct)
		}
	}
}

// TestNormalize: scheme and host in lower case, trailing dots gone, the
// rest as written; what is no URL with a host comes back unchanged.
func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://LOCALHOST:8200", "http://localhost:8200"},
		{"HTTP://LocalHost.:8200/", "http://localhost:8200/"},
		{"http://localhost..", "http://localhost"},
		{"https://Vault.CERN.ch./v1/Path", "https://vault.cern.ch/v1/Path"},
		{"https://[::1]:8200", "https://[::1]:8200"},
		{"https://[0:0:0:0:0:0:0:1]", "https://[0:0:0:0:0:0:0:1]"},
		{"https://vault.cern.ch", "https://vault.cern.ch"},
		{"https://U:P@Vault.example", "https://U:P@vault.example"},
		{"vault.cern.ch:8200", "vault.cern.ch:8200"},
		{"", ""},
		{"http://./", "http://./"},
		{"%zz", "%zz"},
	} {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// What is normalised is checked: LOCALHOST passes as loopback once
	// normalised, and not before.
	if err := Address("http://LOCALHOST:8200", false); err == nil {
		t.Errorf("Address accepts http://LOCALHOST:8200 unnormalised")
	}
	if err := Address(Normalize("http://LOCALHOST:8200"), false); err != nil {
		t.Errorf("Address(Normalize(http://LOCALHOST:8200)): %v", err)
	}
	if c, err := Canonical("http://LOCALHOST.:8200/"); err != nil || c != "http://localhost:8200" {
		t.Errorf("Canonical = %q, %v", c, err)
	}
}
