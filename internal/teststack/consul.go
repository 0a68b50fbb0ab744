package teststack

import (
	"context"
	"fmt"
)

// Consul is a `consul agent -dev` with ACLs enabled, default policy deny,
// bootstrapped.
type Consul struct{ agent }

var consulSpec = agentSpec{
	name:            "consul",
	product:         "Consul",
	header:          "X-Consul-Token",
	ports:           5,
	bootstrapMethod: "PUT",
	config: func(dir string, ports []int, t *ServerTLS) ([]string, []string, error) {
		hcl := fmt.Sprintf(`disable_update_check = true
acl { enabled = true
  default_policy = "deny"
  enable_token_persistence = false }
ports { %s
  dns = -1
  grpc = -1
  grpc_tls = -1
  serf_lan = %d
  serf_wan = %d
  server = %d }`, t.consulPorts(ports[0]), ports[1], ports[2], ports[3]) + t.consulConfig()
		// -ui: the web UI (dev mode enables it too), for alilogin ui consul.
		return []string{"agent", "-dev", "-ui", "-bind=127.0.0.1", "-client=127.0.0.1", "-hcl", hcl},
			[]string{"CONSUL_HTTP_ADDR=", "CONSUL_HTTP_TOKEN="}, nil
	},
}

// startConsul starts Consul; with t, its API is HTTPS only and requires
// client certificates (servertls.go).
func startConsul(ctx context.Context, s *Stack, t *ServerTLS) (*Consul, error) {
	a, err := startAgent(ctx, s, &consulSpec, t)
	if err != nil {
		return nil, err
	}
	return &Consul{*a}, nil
}
