package config

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/apiclient"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseFull(t *testing.T) {
	got, err := LoadFile("testdata/full.hcl")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Issuer: "https://sso.example/realms/x", ClientID: "alilogin", RolesClaim: "/resource_access/alilogin/roles",
		UserClaim: "preferred_username", DefaultProfile: "ci", Broker: "https://broker.example", Store: "file",
		Vault: Server{Addr: "https://vault.example:8200", Mount: "jwt-cern", TLS: apiclient.TLS{CACert: "/etc/ca.pem",
			ClientCert: "/home/u/.globus/usercert.pem", ClientKey: "/home/u/.globus/userkey.pem"}},
		Nomad:  Server{Addr: "https://nomad.example:4646"},
		Consul: Server{Addr: "https://consul.example:8501", Mount: "consul-alice"},
		Profiles: []Profile{
			{Name: "ci", Roles: []string{"alice-ci-users"}},
			{Name: "vault-only", Roles: []string{"alice-readers"}, NoNomad: true, NoConsul: true},
		},
		File: "testdata/full.hcl",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	for name, src := range map[string]string{
		"syntax":                "issuer = ",
		"unknown field":         `colour = "blue"`,
		"bad profile":           `profile "../etc" {}`,
		"wrong type":            `client_id = ["a"]`,
		"two vault blocks":      "vault {}\nvault {}",
		"unknown server field":  `vault { colour = "blue" }`,
		"unknown profile field": `profile "ci" { colour = "blue" }`,
		"profile without name":  `profile {}`,
		"null in a list":        `scopes = ["openid", null]`,
		"variable":              `issuer = var.x`,
		"function call":         `issuer = upper("x")`,
		"not a bool":            `profile "ci" { nomad = "maybe" }`,
		"attribute as block":    `issuer { }`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse("x.hcl", []byte(src)); err == nil {
				t.Error("no error")
			}
		})
	}
}

// TestParseValues: values are converted as gohcl did (null is unset,
// strings and bools convert), and comments and layout do not matter.
func TestParseValues(t *testing.T) {
	got, err := Parse("x.hcl", []byte(`# a comment
issuer = null
client_id = 42
scopes = []
profile "a" {
  nomad = "false" // converts
  consul = true
}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{ClientID: "42", Scopes: []string{}, File: "x.hcl", Profiles: []Profile{{Name: "a", NoNomad: true}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMissingFileIsEmpty(t *testing.T) {
	c, err := LoadFile(filepath.Join(t.TempDir(), "none.hcl"))
	if err != nil || !cmp.Equal(c, Config{}) {
		t.Errorf("got %+v, %v", c, err)
	}
}

// TestPrecedence: flags > env > file > discovery > defaults.
func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgDir := filepath.Join(dir, "alilogin")
	os.MkdirAll(cfgDir, 0o700)
	os.WriteFile(filepath.Join(cfgDir, "config.hcl"), []byte(`
client_id = "from-file"
issuer    = "https://file.example"
broker    = "https://broker.example"
vault { address = "https://vault-file:8200" }
nomad { address = "https://nomad-file:4646" }
`), 0o600)
	env := map[string]string{
		"XDG_CONFIG_HOME":  dir,
		"VAULT_ADDR":       "https://vault-env:8200",
		"VAULT_CACERT":     "/env/ca.pem",
		"CONSUL_HTTP_ADDR": "127.0.0.1:8500",
		"ALILOGIN_ISSUER":  "https://env.example",
	}
	var asked string
	discover := func(broker string) (Config, error) {
		asked = broker
		return Config{ClientID: "from-discovery", UserClaim: "from-discovery", Nomad: Server{Addr: "https://nomad-disc:4646", Mount: "nomad-disc"}}, nil
	}
	c, err := Resolve(Sources{Flags: Config{Issuer: "https://flag.example"}, Getenv: envOf(env), Discover: discover})
	if err != nil {
		t.Fatal(err)
	}
	if asked != "https://broker.example" {
		t.Errorf("discovery asked %q", asked)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"issuer (flag)", c.Issuer, "https://flag.example"},
		{"vault (env over file)", c.Vault.Addr, "https://vault-env:8200"},
		{"vault CA (env)", c.Vault.TLS.CACert, "/env/ca.pem"},
		{"consul (env, scheme added)", c.Consul.Addr, "http://127.0.0.1:8500"},
		{"client id (file over discovery)", c.ClientID, "from-file"},
		{"nomad (file over discovery)", c.Nomad.Addr, "https://nomad-file:4646"},
		{"nomad mount (discovery over default)", c.Nomad.Mount, "nomad-disc"},
		{"user claim (discovery)", c.UserClaim, "from-discovery"},
		{"roles claim (default)", c.RolesClaim, DefaultRolesClaim},
		{"jwt mount (default)", c.Vault.Mount, DefaultJWTMount},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestDefaultsAreCERN(t *testing.T) {
	c, err := Resolve(Sources{Getenv: envOf(map[string]string{"HOME": t.TempDir()})})
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://auth.cern.ch/auth/realms/cern" || c.RolesClaim != "cern_roles" || c.UserClaim != "cern_upn" {
		t.Errorf("defaults %+v", c)
	}
	err = c.Validate()
	if err == nil || !strings.Contains(err.Error(), "client id") || !strings.Contains(err.Error(), "Vault address") {
		t.Errorf("Validate = %v", err)
	}
}

func TestConfigPathFromEnv(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG layout")
	}
	p, _ := Path(envOf(map[string]string{"ALILOGIN_CONFIG": "/x/y.hcl", "HOME": "/h"}))
	if p != "/x/y.hcl" {
		t.Errorf("path %q", p)
	}
	p, _ = Path(envOf(map[string]string{"HOME": "/h"}))
	if p != "/h/.config/alilogin/config.hcl" {
		t.Errorf("path %q", p)
	}
}
