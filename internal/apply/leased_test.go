package apply

import "testing"

// TestClientsFromEnvLeased: a client whose token the caller leases (broker
// serve's --nomad-token-from-vault) needs no token variable and gets no
// token, not even the one the variable holds; the others still need
// theirs.
func TestClientsFromEnvLeased(t *testing.T) {
	env := map[string]string{"VAULT_ADDR": "https://127.0.0.1:8200", "VAULT_TOKEN": "v",
		"NOMAD_ADDR": "https://127.0.0.1:4646", "NOMAD_TOKEN": "stale",
		"CONSUL_HTTP_ADDR": "https://127.0.0.1:8500"}
	getenv := func(k string) string { return env[k] }
	c, err := ClientsFromEnv(getenv, nil, "NOMAD_TOKEN", "CONSUL_HTTP_TOKEN")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Nomad.Token.Empty() || !c.Consul.Token.Empty() || c.Vault.Token.Reveal() != "v" {
		t.Errorf("tokens: nomad %v, consul %v, vault set %v; want only Vault's", !c.Nomad.Token.Empty(), !c.Consul.Token.Empty(), !c.Vault.Token.Empty())
	}
	if _, err := ClientsFromEnv(getenv, nil, "NOMAD_TOKEN"); err == nil {
		t.Error("no CONSUL_HTTP_TOKEN and Consul's token not leased: no error")
	}
}
