package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsulHostPort: a Consul address may be HOST:PORT in the config
// file as in CONSUL_HTTP_ADDR (the consul CLI's form): http, so loopback
// only; CONSUL_HTTP_SSL makes it https. Vault and Nomad addresses are
// URLs, as their CLIs take them.
func TestConsulHostPort(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config.hcl")
	resolve := func(file string, env map[string]string) (*Config, error) {
		t.Helper()
		if err := os.WriteFile(cfgFile, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{"ALILOGIN_CONFIG": cfgFile}
		for k, v := range env {
			m[k] = v
		}
		return Resolve(Sources{Getenv: envOf(m)})
	}
	for _, tc := range []struct {
		name, file string
		env        map[string]string
		want       string
	}{
		{"file", "consul {\n  address = \"127.0.0.1:8500\"\n}\n", nil, "http://127.0.0.1:8500"},
		{"file, IPv6", "consul {\n  address = \"[::1]:8500\"\n}\n", nil, "http://[::1]:8500"},
		{"file, URL", "consul {\n  address = \"https://consul.cern.ch:8501\"\n}\n", nil, "https://consul.cern.ch:8501"},
		{"environment", "", map[string]string{"CONSUL_HTTP_ADDR": "127.0.0.1:8500"}, "http://127.0.0.1:8500"},
		{"environment with TLS", "", map[string]string{"CONSUL_HTTP_ADDR": "consul.cern.ch:8501", "CONSUL_HTTP_SSL": "TRUE"}, "https://consul.cern.ch:8501"},
		{"environment wins", "consul {\n  address = \"127.0.0.1:8500\"\n}\n", map[string]string{"CONSUL_HTTP_ADDR": "localhost:18500"}, "http://localhost:18500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := resolve(tc.file, tc.env)
			if err != nil || c.Consul.Addr != tc.want {
				t.Fatalf("Resolve: consul address %v, %v; want %q", c, err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name, file string
		env        map[string]string
		want       string
	}{
		{"file, another host", "consul {\n  address = \"consul.cern.ch:8500\"\n}\n", nil,
			cfgFile + `:2:13: consul address: plain http:// to a host that is not loopback: "http://consul.cern.ch:8500"`},
		{"environment, another host", "", map[string]string{"CONSUL_HTTP_ADDR": "consul.cern.ch:8500"},
			`CONSUL_HTTP_ADDR: plain http:// to a host that is not loopback: "http://consul.cern.ch:8500"`},
		{"vault HOST:PORT", "vault {\n  address = \"127.0.0.1:8200\"\n}\n", nil,
			cfgFile + `:2:13: vault address: "127.0.0.1:8200" is not a URL: want https://127.0.0.1:8200 (or http:// on loopback)`},
		{"NOMAD_ADDR HOST:PORT", "", map[string]string{"NOMAD_ADDR": "nomad.cern.ch:4646"},
			`NOMAD_ADDR: "nomad.cern.ch:4646" is not a URL: want https://nomad.cern.ch:4646`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := resolve(tc.file, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Resolve = %v, %v; want an error with %q", c, err, tc.want)
			}
		})
	}
}
