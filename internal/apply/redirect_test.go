package apply

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/alisw/alilogin/internal/apiclient"
	"github.com/alisw/alilogin/internal/hostile"
)

// The broker's admin tokens stay with their servers: a Vault, Nomad or
// Consul address that redirects to another origin gets an error naming
// both, and the other origin gets nothing.
func TestClientsRefuseRedirectElsewhere(t *testing.T) {
	other := hostile.NewServer(hostile.ErrorBody(http.StatusOK, "application/json", `{}`))
	t.Cleanup(other.Close)
	front := hostile.NewRedirect(http.StatusTemporaryRedirect, other.URL)
	t.Cleanup(front.Close)
	env := map[string]string{
		"VAULT_ADDR": front.URL, "VAULT_TOKEN": "root-vault-token",
		"NOMAD_ADDR": front.URL, "NOMAD_TOKEN": "mgmt-nomad-token",
		"CONSUL_HTTP_ADDR": strings.TrimPrefix(front.URL, "http://"), "CONSUL_HTTP_TOKEN": "mgmt-consul-token",
	}
	c, err := ClientsFromEnv(func(k string) string { return env[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	for _, cl := range []*apiclient.Client{c.Vault, c.Nomad, c.Consul} {
		err := cl.Do(context.Background(), "PUT", "/v1/sys/policies/acl/x", map[string]string{"policy": "p"}, nil)
		if err == nil || !strings.Contains(err.Error(), front.URL) || !strings.Contains(err.Error(), other.URL) {
			t.Errorf("%s: want an error naming both addresses, got %v", cl.Name, err)
		}
	}
	for _, r := range other.Requests() {
		t.Errorf("the other origin got %s %s, headers %v", r.Method, r.Path, r.Header)
	}
}
