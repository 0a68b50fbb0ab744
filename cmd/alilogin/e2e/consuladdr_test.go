package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alisw/alilogin/internal/secret"
)

// TestConsulAddressHostPortInConfigFile: `consul { address = "HOST:PORT" }`
// in the config file, the consul CLI's form of CONSUL_HTTP_ADDR, is
// http://HOST:PORT: the Consul token is minted for it, env exports the
// URL, and the real Consul accepts the token.
func TestConsulAddressHostPortInConfigFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	u, profile := newSessionUser(t, ctx, "1h", "consul-hostport-users")
	hostport := strings.TrimPrefix(stack.Consul.Addr, "http://")
	// The seeded record is bound to the servers configured now, the
	// environment's; then the address comes from the config file only.
	seed(t, ctx, u, profile, "consul-hostport-users")
	delete(u.env, "CONSUL_HTTP_ADDR")
	u.writeConfig(t, "consul {\n  address = \""+hostport+"\"\n}\n")

	tok := tokenOut(u.ok(t, "token", "--for", "consul"))
	if err := stack.Consul.Client().WithToken(secret.New(tok)).Do(ctx, "GET", "/v1/acl/token/self", nil, nil); err != nil {
		t.Errorf("Consul refuses the token minted with the HOST:PORT address: %v", err)
	}
	if out := u.ok(t, "env", "--shell", "sh", "--for", "consul").stdout.String(); !strings.Contains(out, "CONSUL_HTTP_ADDR='http://"+hostport+"'") {
		t.Errorf("env does not export the address as a URL:\n%s", out)
	}
}
