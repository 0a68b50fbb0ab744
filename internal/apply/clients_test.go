package apply

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/policy"
)

func TestClientsFromEnv(t *testing.T) {
	full := map[string]string{
		"VAULT_ADDR": "https://vault:8200", "VAULT_TOKEN": "v",
		"NOMAD_ADDR": "https://nomad:4646", "NOMAD_TOKEN": "n",
		"CONSUL_HTTP_ADDR": "consul:8501", "CONSUL_HTTP_SSL": "true", "CONSUL_HTTP_TOKEN": "c",
	}
	file := &policy.Config{Nomad: policy.Server{Addr: "https://file-nomad:4646"}, Vault: policy.Vault{Addr: "https://file-vault:8200"}}
	tests := []struct {
		name    string
		env     map[string]string
		cfg     *policy.Config
		want    []string // addresses
		wantErr string
	}{
		{"environment", full, nil, []string{"https://vault:8200", "https://nomad:4646", "https://consul:8501"}, ""},
		{"environment wins over the file", full, file, []string{"https://vault:8200", "https://nomad:4646", "https://consul:8501"}, ""},
		{"file addresses", map[string]string{"VAULT_TOKEN": "v", "NOMAD_TOKEN": "n", "CONSUL_HTTP_TOKEN": "c", "CONSUL_HTTP_ADDR": "127.0.0.1:8500"}, file,
			[]string{"https://file-vault:8200", "https://file-nomad:4646", "http://127.0.0.1:8500"}, ""},
		{"missing tokens", map[string]string{"VAULT_ADDR": "https://v:1", "NOMAD_ADDR": "https://n:1", "CONSUL_HTTP_ADDR": "c:1", "CONSUL_HTTP_SSL": "true"}, nil, nil, "no Vault token: set VAULT_TOKEN"},
		{"missing address", map[string]string{"VAULT_TOKEN": "v", "NOMAD_TOKEN": "n", "CONSUL_HTTP_TOKEN": "c", "VAULT_ADDR": "https://v:1", "NOMAD_ADDR": "https://n:1"}, nil, nil,
			"no Consul address: set CONSUL_HTTP_ADDR"},
		{"plain http to another host", map[string]string{"VAULT_TOKEN": "v", "NOMAD_TOKEN": "n", "CONSUL_HTTP_TOKEN": "c",
			"VAULT_ADDR": "http://vault.cern.ch:8200", "NOMAD_ADDR": "https://n:1", "CONSUL_HTTP_ADDR": "c:1", "CONSUL_HTTP_SSL": "true"}, nil, nil,
			"VAULT_ADDR: plain http"},
		{"plain http to Consul without CONSUL_HTTP_SSL", map[string]string{"VAULT_TOKEN": "v", "NOMAD_TOKEN": "n", "CONSUL_HTTP_TOKEN": "c",
			"VAULT_ADDR": "https://v:1", "NOMAD_ADDR": "https://n:1", "CONSUL_HTTP_ADDR": "consul.cern.ch:8500"}, nil, nil,
			"CONSUL_HTTP_ADDR: plain http"},
		// Normalised before the loopback check and used as checked:
		// Go's proxy rule exempts only lower-case localhost.
		{"LOCALHOST", map[string]string{"VAULT_TOKEN": "v", "NOMAD_TOKEN": "n", "CONSUL_HTTP_TOKEN": "c",
			"VAULT_ADDR": "http://LOCALHOST:8200", "NOMAD_ADDR": "http://LocalHost.:4646", "CONSUL_HTTP_ADDR": "LOCALHOST:8500"}, nil,
			[]string{"http://localhost:8200", "http://localhost:4646", "http://localhost:8500"}, ""},
		{"plain http by choice", map[string]string{"VAULT_TOKEN": "v", "NOMAD_TOKEN": "n", "CONSUL_HTTP_TOKEN": "c", "BROKER_INSECURE_HTTP": "true",
			"VAULT_ADDR": "http://vault.cern.ch:8200", "NOMAD_ADDR": "https://n:1", "CONSUL_HTTP_ADDR": "c:1", "CONSUL_HTTP_SSL": "true"}, nil,
			[]string{"http://vault.cern.ch:8200", "https://n:1", "https://c:1"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := clientsFromEnv(t, tc.env, tc.cfg, tc.wantErr)
			if !ok {
				return
			}
			got := []string{c.Vault.Addr, c.Nomad.Addr, c.Consul.Addr}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("addresses (-want +got):\n%s", d)
			}
			for _, cl := range []*apiclient.Client{c.Vault, c.Nomad, c.Consul} {
				if cl.Token.Empty() || strings.Contains(cl.Token.String(), "v") && cl.Token.String() != "[REDACTED]" {
					t.Errorf("%s token: %q", cl.Name, cl.Token)
				}
			}
		})
	}
}

// TestClientsNeedOnlyTheServersThePoliciesUse: Vault is always needed;
// Nomad and Consul only when the policies have policies of theirs. A
// system the policies do not use is connected when its address and token
// are both set (apply then reads it, to prune), and left out otherwise.
func TestClientsNeedOnlyTheServersThePoliciesUse(t *testing.T) {
	nomadOnly := &policy.Config{NomadPolicies: []policy.Document{{Name: "n"}}}
	consulOnly := &policy.Config{ConsulPolicies: []policy.Document{{Name: "c"}}}
	vault := map[string]string{"VAULT_ADDR": "https://vault:8200", "VAULT_TOKEN": "v"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range vault {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name          string
		env           map[string]string
		cfg           *policy.Config
		nomad, consul bool // connected
		wantErr       string
	}{
		{"nomad only, no consul at all", with("NOMAD_ADDR", "https://n:1", "NOMAD_TOKEN", "n"), nomadOnly, true, false, ""},
		{"nomad only, a consul address without a token", with("NOMAD_ADDR", "https://n:1", "NOMAD_TOKEN", "n", "CONSUL_HTTP_ADDR", "127.0.0.1:8500"), nomadOnly, true, false, ""},
		{"nomad only, consul fully set: read for prune", with("NOMAD_ADDR", "https://n:1", "NOMAD_TOKEN", "n", "CONSUL_HTTP_ADDR", "127.0.0.1:8500", "CONSUL_HTTP_TOKEN", "c"), nomadOnly, true, true, ""},
		{"nomad only, nomad missing", vault, nomadOnly, false, false, "no Nomad address: set NOMAD_ADDR"},
		{"consul only, no nomad", with("CONSUL_HTTP_ADDR", "127.0.0.1:8500", "CONSUL_HTTP_TOKEN", "c"), consulOnly, false, true, ""},
		{"consul only, consul token missing", with("CONSUL_HTTP_ADDR", "127.0.0.1:8500"), consulOnly, false, false, "no Consul token: set CONSUL_HTTP_TOKEN"},
		{"vault only", vault, &policy.Config{}, false, false, ""},
		{"vault always", map[string]string{"VAULT_TOKEN": "v"}, &policy.Config{}, false, false, "no Vault address: set VAULT_ADDR"},
		{"unknown policies need all", vault, nil, false, false, "no Nomad address"},
		{"an unused system's address is still checked", with("NOMAD_ADDR", "http://nomad.cern.ch:4646", "NOMAD_TOKEN", "n"), consulOnly, false, false, "NOMAD_ADDR: plain http"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := clientsFromEnv(t, tc.env, tc.cfg, tc.wantErr)
			if !ok {
				return
			}
			if c.Vault == nil || (c.Nomad != nil) != tc.nomad || (c.Consul != nil) != tc.consul {
				t.Errorf("vault %v, nomad %v, consul %v; want true, %v, %v", c.Vault != nil, c.Nomad != nil, c.Consul != nil, tc.nomad, tc.consul)
			}
			if err := c.cover(tc.cfg); err != nil {
				t.Errorf("clients do not cover the policies: %v", err)
			}
		})
	}
	// A serve started without Consul is given policies that use it.
	c, err := ClientsFromEnv(func(k string) string { return vault[k] }, &policy.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cover(consulOnly); err == nil || !strings.Contains(err.Error(), "no Consul address or token") {
		t.Errorf("cover = %v, want the missing Consul named", err)
	}
}

// clientsFromEnv runs ClientsFromEnv on env and cfg. With wantErr set it
// fails t unless the error contains wantErr, and returns nil; otherwise
// it fails t on any error. ok is whether it returned clients.
func clientsFromEnv(t *testing.T, env map[string]string, cfg *policy.Config, wantErr string) (c Clients, ok bool) {
	t.Helper()
	c, err := ClientsFromEnv(func(k string) string { return env[k] }, cfg)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want %q", err, wantErr)
		}
		return Clients{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return c, true
}
