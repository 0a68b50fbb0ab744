package check

import (
	"errors"
	"strings"
	"testing"
)

func TestMount(t *testing.T) {
	for _, m := range []string{"jwt", "jwt/", "nomad", "consul-prod", "team/alice.jwt", "a_b", "v2"} {
		if err := Mount(m); err != nil {
			t.Errorf("Mount(%q): %v", m, err)
		}
	}
	for _, m := range []string{
		"", "..", ".", "../../sys/policies/acl", "jwt/../../sys", "a//b", "/jwt", "jwt//", "./jwt",
		"sys", "sys/policies/acl", "auth/token", "identity", "Cubbyhole", "a b", "a?b", "a%2e%2e", "a#b",
		"-x", ".hidden", "a\nb", "ü", string(make([]byte, 300)),
	} {
		if err := Mount(m); err == nil {
			t.Errorf("Mount(%q) accepted", m)
		}
	}
}

func TestAddress(t *testing.T) {
	for _, tc := range []struct {
		addr     string
		insecure bool
		ok       bool
		plain    bool
	}{
		{addr: "https://vault.cern.ch:8200", ok: true},
		{addr: "https://vault.cern.ch/prefix", ok: true},
		{addr: "http://127.0.0.1:8200", ok: true},
		{addr: "http://127.8.9.1:8200", ok: true},
		{addr: "http://[::1]:8200", ok: true},
		{addr: "http://localhost:8200", ok: true},
		{addr: "http://vault.cern.ch:8200", plain: true},
		{addr: "http://10.0.0.1:8200", plain: true},
		{addr: "http://127.0.0.1.evil.example", plain: true},
		{addr: "http://localhost.evil.example", plain: true},
		{addr: "http://vault.cern.ch:8200", insecure: true, ok: true},
		{addr: "ftp://vault.cern.ch"},
		{addr: "vault.cern.ch:8200"},
		{addr: "https://"},
		{addr: "https://user:pw@vault.cern.ch"},
		{addr: "https://vault.cern.ch/?x=1"},
		{addr: "https://vault.cern.ch/#x"},
		{addr: "https://vault.cern.ch\n"},
	} {
		err := Address(tc.addr, tc.insecure)
		if (err == nil) != tc.ok || errors.Is(err, ErrPlainHTTP) != tc.plain {
			t.Errorf("Address(%q, %v) = %v", tc.addr, tc.insecure, err)
		}
	}
	if err := Address("https://user:hunter2@vault.cern.ch", false); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the error shows the password: %v", err)
	}
}

func TestConsulAddress(t *testing.T) {
	for _, tc := range []struct {
		addr string
		tls  bool
		want string
	}{
		{"", false, ""},
		{"127.0.0.1:8500", false, "http://127.0.0.1:8500"},
		{"127.0.0.1:8501", true, "https://127.0.0.1:8501"},
		{"[::1]:8500", false, "http://[::1]:8500"},
		{"consul.cern.ch:8501", true, "https://consul.cern.ch:8501"},
		{"http://127.0.0.1:8500", false, "http://127.0.0.1:8500"},
		{"http://consul.cern.ch:8500", true, "https://consul.cern.ch:8500"},
		{"HTTP://consul.cern.ch:8500", true, "https://consul.cern.ch:8500"},
		{"https://consul.cern.ch", false, "https://consul.cern.ch"},
		{"unix:///run/consul.sock", false, "unix:///run/consul.sock"},
	} {
		if got := ConsulAddress(tc.addr, tc.tls); got != tc.want {
			t.Errorf("ConsulAddress(%q, %v) = %q, want %q", tc.addr, tc.tls, got, tc.want)
		}
	}
	// HOST:PORT obeys the plain-http rule like any http:// address.
	if err := Address(ConsulAddress("127.0.0.1:8500", false), false); err != nil {
		t.Errorf("loopback HOST:PORT refused: %v", err)
	}
	if err := Address(ConsulAddress("consul.cern.ch:8500", false), false); !errors.Is(err, ErrPlainHTTP) {
		t.Errorf("HOST:PORT of another host: %v, want ErrPlainHTTP", err)
	}
	for v, want := range map[string]bool{"true": true, "1": true, "TRUE": true, "t": true, "false": false, "0": false, "": false, "yes": false} {
		if got := ConsulTLS(v); got != want {
			t.Errorf("ConsulTLS(%q) = %v, want %v", v, got, want)
		}
	}
}
