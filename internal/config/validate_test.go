package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/discovery"
)

// TestHostileConfiguration: mount paths that would leave their mount in a
// Vault API path, and plain http:// to hosts that are not loopback, are
// refused in every layer, and the error names where the value is.
func TestHostileConfiguration(t *testing.T) {
	goodDoc := func() Config {
		return FromDiscovery(&discovery.Document{Version: 1, SSO: discovery.SSO{Issuer: "https://sso.example", ClientID: "c"},
			Vault: discovery.Vault{Addr: "https://vault.example", JWTMount: "jwt", NomadMount: "nomad", ConsulMount: "consul"}})
	}
	for _, tc := range []struct {
		name     string
		file     string
		env      map[string]string
		flags    Config
		doc      func(*Config)
		wantErr  []string // all in the error; none: no error
		wantAddr string
	}{
		{name: "file mount with ..", file: "vault {\n  mount = \"../../sys/policies/acl\"\n}\n",
			wantErr: []string{"config.hcl:2:11: vault mount", `"../../sys/policies/acl" is not a valid Vault mount path`}},
		{name: "file mount with an empty segment", file: `nomad { mount = "a//b" }`, wantErr: []string{"config.hcl:1:17: nomad mount", "empty segment"}},
		{name: "file mount under sys", file: `consul { mount = "sys/policies/acl" }`, wantErr: []string{"consul mount", "sys/ is Vault's own"}},
		{name: "file http to a remote host", file: "\n\nvault { address = \"http://vault.example:8200\" }", wantErr: []string{"config.hcl:3:19: vault address", "plain http://", "insecure_http = true"}},
		{name: "file http issuer", file: `issuer = "http://sso.example"`, wantErr: []string{"config.hcl:1:10: issuer", "plain http://"}},
		{name: "file http broker", file: `broker = "http://broker.example"`, wantErr: []string{"config.hcl:1:10: broker", "plain http://"}},
		{name: "file credentials in an address", file: `vault { address = "https://u:pw@vault.example" }`, wantErr: []string{"vault address", "user name or password"}},
		{name: "file opts in", file: "insecure_http = true\nvault { address = \"http://vault.example:8200\" }", wantAddr: "http://vault.example:8200"},
		{name: "file http loopback", file: `vault { address = "http://127.0.0.1:8200" }`, wantAddr: "http://127.0.0.1:8200"},
		{name: "env mount", env: map[string]string{"ALILOGIN_NOMAD_MOUNT": "nomad/../../sys"}, wantErr: []string{"ALILOGIN_NOMAD_MOUNT: ", `"nomad/../../sys"`}},
		{name: "env jwt mount", env: map[string]string{"ALILOGIN_JWT_MOUNT": ".."}, wantErr: []string{"ALILOGIN_JWT_MOUNT: "}},
		{name: "env http", env: map[string]string{"VAULT_ADDR": "http://vault.example"}, wantErr: []string{"VAULT_ADDR: ", "plain http://", "ALILOGIN_INSECURE_HTTP=true"}},
		{name: "env consul without scheme is http", env: map[string]string{"CONSUL_HTTP_ADDR": "consul.example:8500"}, wantErr: []string{"CONSUL_HTTP_ADDR: ", "plain http://"}},
		{name: "env opts in", env: map[string]string{"VAULT_ADDR": "http://vault.example", "ALILOGIN_INSECURE_HTTP": "true"}, wantAddr: "http://vault.example"},
		{name: "env opt-in not a bool", env: map[string]string{"ALILOGIN_INSECURE_HTTP": "maybe"}, wantErr: []string{"ALILOGIN_INSECURE_HTTP: want true or false"}},
		{name: "flag http", flags: Config{Vault: Server{Addr: "http://vault.example"}}, wantErr: []string{"--vault-addr: ", "plain http://"}},
		{name: "discovery mount", file: `broker = "https://broker.example"`, doc: func(c *Config) { c.Nomad.Mount = "../../sys/policies/acl" },
			wantErr: []string{"the discovery document of https://broker.example: vault.nomad_mount: "}},
		{name: "discovery http", file: `broker = "https://broker.example"`, doc: func(c *Config) { c.Vault.Addr = "http://vault.example" },
			wantErr: []string{"the discovery document of https://broker.example: vault.addr: ", "plain http://"}},
		{name: "discovery cannot opt in", file: `broker = "https://broker.example"`, doc: func(c *Config) { c.Vault.Addr = "http://vault.example"; c.InsecureHTTP = true },
			wantErr: []string{"vault.addr: ", "plain http://"}},
		{name: "discovery http, user opted in", file: "insecure_http = true\nbroker = \"https://broker.example\"", doc: func(c *Config) { c.Vault.Addr = "http://vault.example" },
			wantAddr: "http://vault.example"},
		{name: "file pki mount with ..", file: `pki_mount = "../sys/policies/acl"`, wantErr: []string{"config.hcl:1:13: pki mount", "is not a valid Vault mount path"}},
		{name: "env pki mount", env: map[string]string{"ALILOGIN_PKI_MOUNT": "pki/../../sys"}, wantErr: []string{"ALILOGIN_PKI_MOUNT: "}},
		{name: "discovery pki mount", file: `broker = "https://broker.example"`, doc: func(c *Config) { c.PKIMount = "sys/pki" },
			wantErr: []string{"the discovery document of https://broker.example: vault.pki_mount: "}},
		{name: "discovery fine", file: `broker = "https://broker.example"`, doc: func(*Config) {}, wantAddr: "https://vault.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"ALILOGIN_CONFIG": filepath.Join(dir, "config.hcl"), "HOME": dir}
			for k, v := range tc.env {
				env[k] = v
			}
			if tc.file != "" {
				if err := os.WriteFile(env["ALILOGIN_CONFIG"], []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s := Sources{Getenv: envOf(env), Flags: tc.flags}
			if tc.doc != nil {
				s.Discover = func(string) (Config, error) { c := goodDoc(); tc.doc(&c); return c, nil }
			}
			c, err := Resolve(s)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if c.Vault.Addr != tc.wantAddr {
					t.Errorf("vault address %q, want %q", c.Vault.Addr, tc.wantAddr)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; vault %+v nomad %+v", c.Vault, c.Nomad)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestCheckDiscoveryAndBroker(t *testing.T) {
	d := &discovery.Document{Version: 1, SSO: discovery.SSO{Issuer: "https://sso.example", ClientID: "c"},
		Vault: discovery.Vault{Addr: "https://vault.example", JWTMount: "../jwt"}}
	if err := CheckDiscovery(d, "https://b.example", false); err == nil || !strings.Contains(err.Error(), "vault.jwt_mount") {
		t.Errorf("CheckDiscovery = %v", err)
	}
	if err := CheckBroker("http://broker.example", false); err == nil || !strings.Contains(err.Error(), "--broker") {
		t.Errorf("CheckBroker = %v", err)
	}
	if err := CheckBroker("http://broker.example", true); err != nil {
		t.Errorf("CheckBroker with insecure_http = %v", err)
	}
}

// TestResolveNormalizesAddresses: every layer's addresses are normalised
// (scheme and host in lower case, no trailing dot) before they are
// checked and used: http://LOCALHOST is loopback once it is
// http://localhost, which Go's proxy rule exempts from HTTP_PROXY too.
func TestResolveNormalizesAddresses(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "alilogin"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alilogin", "config.hcl"), []byte(`
nomad { address = "http://LocalHost.:4646" }
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"XDG_CONFIG_HOME": dir, "VAULT_ADDR": "http://LOCALHOST:8200", "CONSUL_HTTP_ADDR": "LOCALHOST.:8500",
		"ALILOGIN_BROKER": "https://Broker.Example."}
	var asked string
	discover := func(broker string) (Config, error) {
		asked = broker
		return Config{Issuer: "HTTP://127.0.0.1:4444/"}, nil
	}
	c, err := Resolve(Sources{Getenv: func(k string) string { return env[k] }, Discover: discover})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"vault", c.Vault.Addr, "http://localhost:8200"},
		{"nomad", c.Nomad.Addr, "http://localhost:4646"},
		{"consul", c.Consul.Addr, "http://localhost:8500"},
		{"broker", asked, "https://broker.example"},
		{"issuer", c.Issuer, "http://127.0.0.1:4444/"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}
